"""The ConnectWise REST API client: one tenant's site, its requests, and what answers mean.

``hook`` sends (an Airflow hook over ``requests``), ``policy`` says what each response status
means (retry, rediscover or fail; whose fault; the fix), ``budget`` paces and counts requests,
``bodies`` reads and decodes them, ``paging`` and ``conditions`` shape the reads, and
``checklist`` runs the ordered connection checks that the Test button and the preflight share.
Nothing here knows about staging or the mapping.
"""
