environment "a" {
  parent = environment.c
}
environment "b" {
  parent = environment.a # ERROR: Cycle in environment parents
}
environment "c" {
  parent = environment.b
}
