"""Real-time sync through ConnectWise callbacks.

``install`` keeps one callback entry per synced type in ConnectWise; ``receiver`` verifies
each delivery and commits it to the inbox table before answering; ``wake`` tells Airflow;
``process`` drains the inbox through the same map → check → load loop as every sync.
"""
