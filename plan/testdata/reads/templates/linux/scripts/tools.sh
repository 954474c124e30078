echo tools
