os_name     = "ubuntu"
answer_file = "user-data.pkrtpl.yml"
mirror      = "http://archive.ubuntu.com/ubuntu"
