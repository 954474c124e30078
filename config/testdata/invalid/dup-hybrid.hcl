hybrid {}
hybrid {} # ERROR: Duplicate hybrid block
