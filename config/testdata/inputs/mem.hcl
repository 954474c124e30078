mem = 5000
