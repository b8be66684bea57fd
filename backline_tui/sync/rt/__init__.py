"""The Request Tracker 5 connector: client.py (REST2), mapping.py (RT values to ours and back),
connector.py (pull and push)."""
