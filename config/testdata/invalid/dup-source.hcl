source "examples" {
  url = "https://example.com/a.git"
}
source "examples" { # ERROR: Duplicate source block
  url = "https://example.com/b.git"
}
