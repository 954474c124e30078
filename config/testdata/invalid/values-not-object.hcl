environment "dev" {
  values = ["a", "b"] # ERROR: Incorrect attribute value type
}
