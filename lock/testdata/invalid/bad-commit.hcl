source "examples" {
  url    = "https://example.com/a.git"
  ref    = "main"
  commit = "8f3c" # ERROR: Invalid commit
}

source "upper" {
  url    = "https://example.com/b.git"
  commit = "8F3C1A2B9D0E4F5A6B7C8D9E0F1A2B3C4D5E6F70" # ERROR: Invalid commit
}
