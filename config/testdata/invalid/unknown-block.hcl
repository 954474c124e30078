imagez "ubuntu" { # ERROR: Unsupported block type
}
