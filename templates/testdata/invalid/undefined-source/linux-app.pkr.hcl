source "null" "linux-app" {
  communicator = "none"
}

build {
  sources = [
    "source.null.linux-app",
    "source.null.linux-missing", # ERROR: Reference to undefined source
    "vsphere-iso.linux-app", # ERROR: Reference to undefined source
  ]

  source "source.file.linux-app" { # ERROR: Reference to undefined source
    name = "linux-app-file"
  }
}
