image "ubuntu" {
  template = "../outside/templates" # ERROR: Path escapes the workspace
  build    = "file.linux-ubuntu"
}
