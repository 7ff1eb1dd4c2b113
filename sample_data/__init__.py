"""Seeded sample data: the pilot fleet, a product catalogue, comments and the pilot simulator.

Nothing heavy is imported here; ``sample_data.simulate`` pulls in numpy and pyarrow when used.
"""
