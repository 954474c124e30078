source "null" "linux-app" {
  communicator = "none"
}

build {
  sources = [
    "source.null.linux-app",
    "linux-app", # ERROR: Invalid source reference
    "source.null.linux-app.extra", # ERROR: Invalid source reference
    "source.null.", # ERROR: Invalid source reference
    ["source.null.linux-app"], # ERROR: Invalid source reference
  ]

  source "linux-app" { # ERROR: Invalid source reference
  }

  source "null.linux-app" {
    name = local.name # ERROR: Variables not allowed
  }
}

build {
  sources = "source.null.linux-app" # ERROR: Invalid build sources
}

build {
  sources = null # ERROR: Invalid build sources
}
