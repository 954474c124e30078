hybrid {
  parallelism = 0 # ERROR: Invalid parallelism
}
