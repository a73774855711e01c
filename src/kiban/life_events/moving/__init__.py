"""Moving house (引越し): the moving-out, moving-in and moving-within procedures, and the moving
packet between municipal offices through the mesh."""
