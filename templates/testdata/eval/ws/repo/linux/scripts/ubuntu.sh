ubu
