source "null" "linux-app" { # ERROR: Duplicate source block
  communicator = "none"
}

build {
  sources = ["source.null.linux-app"]
}
