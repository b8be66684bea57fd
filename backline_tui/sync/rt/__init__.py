"""The Request Tracker 5 connector: client.py (REST2), mapping.py (RT values to ours and back),
connector.py (the connector: streams, cursors, errors) with its parts pull.py (the feed, histories,
attachments, fields), records.py (RT tickets and articles as our records), push.py (outbox ops),
knowledge.py (knowledge-work and article ops) and check.py (`backline sources check`)."""
