variable "secret" {
  type      = string
  sensitive = "maybe" # ERROR: Unsuitable value type
}

variable "described" {
  description = ["not", "a", "string"] # ERROR: Unsuitable value type
}
