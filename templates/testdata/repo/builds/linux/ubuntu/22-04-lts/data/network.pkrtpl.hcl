network: %{ if true }not { hcl
