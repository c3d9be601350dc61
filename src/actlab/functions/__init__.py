"""The activation families; importing a family module registers its entries."""
