plugin "../../../etc/passwd" { # ERROR: Invalid plugin source
  version = "1.2.1"
}

plugin "hashicorp/vsphere" { # ERROR: Invalid plugin source
  version = "1.2.1"
}
