source "examples" {
  url    = "https://example.com/a.git"
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
}

source "examples" { # ERROR: Duplicate source block
  url    = "https://example.com/b.git"
  commit = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
}
