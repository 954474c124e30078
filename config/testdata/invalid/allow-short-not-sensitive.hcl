variable "not_sensitive" {
  default                = "x"
  allow_short_unredacted = true # ERROR: allow_short_unredacted without sensitive
}
