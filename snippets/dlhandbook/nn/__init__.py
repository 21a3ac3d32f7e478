"""An MLP with an explicit backward pass, and the training loop (Q9, Q12, Q13)."""
