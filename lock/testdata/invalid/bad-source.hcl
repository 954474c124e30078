source "../escape" { # ERROR: Invalid source name
  url    = "https://example.com/a.git"
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
}

source "opt" {
  url    = "--upload-pack=touch x" # ERROR: Invalid source URL
  ref    = "-main" # ERROR: Invalid source ref
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
}
