"""The domain core: pure Python, no I/O, no clock, no asyncio. Time comes in as arguments."""
