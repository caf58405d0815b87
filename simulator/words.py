"""Small word lists for the data generator (no Faker: the simulator has no extra deps)."""

from __future__ import annotations

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Sandra", "Mark", "Margaret", "Steven", "Ashley", "Paul", "Kimberly", "Andrew",
    "Emily", "Joshua", "Donna", "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda",
    "Arnie", "Estella", "Lillie", "Priya", "Wei", "Aisha", "Mateo", "Ines", "Olga", "Kenji",
    # Non-ASCII names on purpose: staging tables and mappings must keep them intact.
    "José", "Zoë", "Łukasz", "Siobhán", "Søren", "Małgorzata", "Björn", "Chloé", "Dženan",
    "Nguyễn", "Ørjan", "Saoirse", "François", "Åsa", "İlker", "Žofie", "Renée", "陈", "さくら",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Bellini", "Mcdowell", "Keebler", "Okafor", "Nakamura", "Kowalski", "Novak", "Schmidt",
    "O'Brien", "D'Angelo", "van der Berg", "Müller", "Østergaard", "Jiménez", "Dvořák",
    "Ó Súilleabháin", "Nuñez", "Łęcki", "Þórsson", "García-Márquez", "王", "たなか",
)
LONG_FIRST_NAMES = ("Maximiliano-Alessandro", "Anna-Katharina-Luise", "Bartholomew Fitzgerald")
LONG_LAST_NAMES = ("Wolfeschlegelsteinhausen", "Featherstonehaugh-Smythe", "Castellanos-Villarreal")

COMPANY_PREFIXES = (
    "Blue", "Summit", "Harbor", "Northwind", "Contoso", "Fabrikam", "Pinnacle", "Redwood",
    "Evergreen", "Silverline", "Granite", "Lakeside", "Crescent", "Keystone", "Meridian",
    "Oakridge", "Riverbend", "Sterling", "Trident", "Vertex", "Apex", "Beacon", "Cobalt",
    "Horizon", "Liberty", "Maple", "Nova", "Orion", "Prairie", "Quantum", "Sunrise", "Tidewater",
)
COMPANY_NOUNS = (
    "Dental", "Logistics", "Law Group", "Accounting", "Manufacturing", "Realty", "Clinic",
    "Engineering", "Foods", "Insurance", "Architects", "Consulting", "Academy", "Motors",
    "Builders", "Pharmacy", "Veterinary", "Credit Union", "Hotels", "Media", "Labs", "Energy",
)
COMPANY_SUFFIXES = ("Inc", "LLC", "Ltd", "Corp", "Group", "Partners", "Co", "PLLC", "", "")
UNICODE_COMPANIES = (
    "Café Müller GmbH", "Société Générale de Réseaux", "Ølstad & Sønner AS", "株式会社サクラ",
    "Łódź Logistyka Sp. z o.o.", "Årets Bästa Bageri AB", "Niño & Hijos S.A. de C.V.",
    "Δέλτα Τεχνολογίες Α.Ε.",  # noqa: RUF001 - Greek on purpose
    "Zürich Präzision AG", "Crème de la Crème Pâtisserie",
)
LONG_COMPANY = (
    "The Greater Metropolitan Regional Association of Independent Veterinary Practitioners "
    "and Allied Animal Health Professionals Cooperative Holdings International"
)
CITIES = (
    ("Tampa", "FL", "33602"), ("Chicago", "IL", "60601"), ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"), ("Seattle", "WA", "98101"), ("Boston", "MA", "02108"),
    ("Atlanta", "GA", "30303"), ("Phoenix", "AZ", "85001"), ("Portland", "OR", "97201"),
    ("Columbus", "OH", "43004"), ("Raleigh", "NC", "27601"), ("Omaha", "NE", "68102"),
    ("Nashville", "TN", "37201"), ("Madison", "WI", "53703"), ("Boise", "ID", "83702"),
)
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Harbor Blvd",
           "Lake View Pkwy", "Industrial Way", "Commerce Ct", "Sunset Blvd", "2nd Ave")
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")
TITLES = ("CEO", "CFO", "Office Manager", "IT Director", "Controller", "Owner", "CPA, MBA",
          "Practice Manager", "Operations Lead", "Receptionist", "VP Sales", "Paralegal")

MANUFACTURERS = (
    "Microsoft", "Dell", "HP", "Lenovo", "Cisco", "Fortinet", "SonicWall", "Ubiquiti", "APC",
    "Apple", "Samsung", "Logitech", "Synology", "Netgear", "Juniper", "VMware", "Adobe",
    "Sophos", "Datto", "Veeam", "Intel", "Brother", "Canon", "Epson", "Kingston", "Seagate",
)
MANUFACTURER_PREFIXES = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
    "Hooli", "Vandelay", "Massive", "Aperture", "Black Mesa", "Oscorp", "Gringotts", "Wonka",
    "Dunder", "Prestige", "Monarch",
)
MANUFACTURER_SUFFIXES = ("Systems", "Networks", "Devices", "Software", "Labs", "Technologies",
                         "Electronics", "Digital", "Security", "Cloud", "Data", "Micro", "Works",
                         "Components", "Solutions")
CATEGORIES = (
    "Hardware", "Software", "Services", "Licensing", "Networking", "Cloud", "Security",
    "Accessories", "Storage", "Printing", "Telephony", "Backup", "Monitoring", "Training",
    "Consulting", "Cabling", "Power", "Audio Visual", "Mobile", "Legacy",
)
CATEGORY_QUALIFIERS = ("", "Enterprise ", "SMB ", "Refurbished ", "Managed ", "Project ")
SUBCATEGORIES = (
    "Desktops", "Laptops", "Servers", "Monitors", "Switches", "Routers", "Firewalls",
    "Access Points", "Subscriptions", "Perpetual", "Labor", "Onsite", "Remote", "Antivirus",
    "Email Security", "Backup Appliances", "UPS", "Cables", "Headsets", "Phones", "Toner",
    "Docking Stations", "NAS", "Warranty",
)
PRODUCT_WORDS = (
    "Business Premium", "Pro 14", "Rack Server", "24in Monitor", "PoE Switch 48-port",
    "Next-Gen Firewall", "Wi-Fi 6 Access Point", "Endpoint Protection", "Backup Appliance",
    "UPS 1500VA", "Cat6 Patch Cable", "USB-C Dock", "Wireless Headset", "Managed Service",
    "Onsite Labor Hour", "Remote Support Hour", "Email Security Seat", "NAS 4-bay",
    "Extended Warranty", "Toner Cartridge", "SIP Phone", "Cloud Backup 1TB",
)
OPPORTUNITY_TOPICS = (
    "Network Refresh", "Office 365 Migration", "Managed Services", "Firewall Upgrade",
    "Server Replacement", "Backup & DR", "Security Assessment", "Wi-Fi Overhaul",
    "Laptop Rollout", "VoIP Project", "Cloud Migration", "Develop Reporting", "Renewal",
)
SOURCES = ("Referral", "Website", "Trade Show", "Cold Call", "Partner", "Existing Customer",
           None)
ACTIVITY_TOPICS = ("Call back", "Stage Change", "Send quote", "Follow up on proposal",
                   "Quarterly review", "Demo", "Check in", "Contract renewal call",
                   "Discuss pricing", "Site visit")
