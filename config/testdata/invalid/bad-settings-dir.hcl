hybrid {
  directories {
    state = "." # ERROR: Directory is the workspace root
  }
}
