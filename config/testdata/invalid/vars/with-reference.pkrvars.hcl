os = "ubuntu"
mem = var.mem # ERROR: Variables not allowed
