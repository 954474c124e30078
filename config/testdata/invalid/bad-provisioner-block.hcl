provisioner "salt" { # ERROR: Unknown provisioner stack
  dir = "templates/salt"
}
