"""Pure code with no framework: identifiers and their check digits, value types, errors, clock."""
