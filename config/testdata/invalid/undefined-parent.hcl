environment "prod" {
  parent = "stage" # ERROR: Reference to undeclared environment
}
