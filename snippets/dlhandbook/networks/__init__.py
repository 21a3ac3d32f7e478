"""Small networks that show what activations buy: linear collapse, XOR, polynomial activations (Q6, Q8)."""
