"""The common building blocks (共通機能). Only a block's facade (its ``__init__``) crosses a block
boundary; see docs/adr/0003-block-dag.md for the order in which blocks may depend on each other."""
