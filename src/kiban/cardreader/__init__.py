"""The virtual card reader: a separate local component that holds software My Number cards,
asks for the PIN and signs, like the client software that talks to a real card."""
