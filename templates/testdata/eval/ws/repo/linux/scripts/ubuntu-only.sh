uo
