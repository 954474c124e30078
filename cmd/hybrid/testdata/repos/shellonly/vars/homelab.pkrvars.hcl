# Settings of the lab every template shares.
timezone    = "Europe/Berlin"
dns_servers = ["192.168.10.1", "1.1.1.1"]
ssh_user    = "ops"
