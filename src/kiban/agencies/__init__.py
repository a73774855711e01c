"""Reference agency systems that talk to kiban only through the mesh and the public APIs."""
