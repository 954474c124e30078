source "examples" { # ERROR: Missing required argument
  url = "https://example.com/a.git"
}
