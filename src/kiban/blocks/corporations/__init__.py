"""Corporate registry (法人番号): corporations with a valid corporate number, name and address."""
