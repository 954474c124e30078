variable "disks" {
  type = lst(number) # ERROR: Invalid type specification
}
