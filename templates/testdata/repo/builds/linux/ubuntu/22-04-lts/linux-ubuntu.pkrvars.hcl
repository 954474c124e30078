this file { is not read by Load
