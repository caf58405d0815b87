"""Write-back: outbox rows in staging → ConnectWise records (docs/write-back.md)."""
