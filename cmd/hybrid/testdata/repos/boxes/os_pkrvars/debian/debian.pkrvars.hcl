os_name     = "debian"
answer_file = "preseed.pkrtpl.cfg"
mirror      = "http://deb.debian.org"
