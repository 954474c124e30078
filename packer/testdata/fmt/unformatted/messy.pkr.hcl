source "null" "y" {
communicator   = "none"
}
