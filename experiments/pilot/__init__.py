"""The running pilot: is every store sending data? (``storelab pilot …``)."""
