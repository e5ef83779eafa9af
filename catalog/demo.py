"""The demo catalog that `make run` loads into an empty shop.

Everything here is generated, not copied: product texts come from per-category phrase pools
drawn with seeded RNGs, and each photo is a small Pillow drawing of the item type in the
product's colour. Same code, same catalog, byte for byte, so reloading is a no-op and search
results in demos and tests are reproducible.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from PIL import Image, ImageDraw
from tqdm import tqdm

from catalog.services import attach_image, upsert_product

PER_CATEGORY = 24
IMAGE_SIZE = 320
# Drawn at twice the size and scaled down: cheap anti-aliasing for Pillow's jagged shapes.
_SUPERSAMPLE = 2
_BACKGROUND = (246, 244, 240)
_SHADOW = (226, 223, 217)
_STEEL = (186, 190, 196)

# The keys of a demo product that `upsert_product` accepts; "illustration" is ours only.
_PRODUCT_KEYS = (
    "sku",
    "name",
    "description",
    "brand",
    "price",
    "currency",
    "attributes",
    "category",
)

RGB = tuple[int, int, int]

PALETTE: dict[str, RGB] = {
    "white": (250, 250, 247),
    "ivory": (238, 230, 208),
    "sand": (212, 192, 152),
    "grey": (150, 152, 156),
    "charcoal": (58, 62, 68),
    "black": (32, 32, 35),
    "navy": (34, 50, 96),
    "sky blue": (122, 176, 226),
    "teal": (28, 128, 128),
    "sage": (148, 174, 140),
    "forest green": (40, 96, 62),
    "olive": (112, 116, 52),
    "mustard": (216, 166, 42),
    "yellow": (246, 206, 62),
    "orange": (236, 122, 32),
    "terracotta": (196, 98, 66),
    "coral": (240, 122, 102),
    "red": (198, 40, 48),
    "burgundy": (112, 30, 46),
    "blush pink": (234, 182, 182),
    "lavender": (182, 162, 216),
    "brown": (122, 82, 52),
    "silver": (192, 194, 198),
    "gold": (204, 168, 82),
    "copper": (186, 116, 70),
}


@dataclass(frozen=True)
class _Kind:
    noun: str  # as it appears in names: "Bath Towel"
    shape: str  # key into _DRAWERS
    price: tuple[int, int]
    # Sentences only this kind can truthfully say ("a pull-out mattress" is no loveseat's).
    notes: tuple[str, ...] = ()
    # Attributes of this kind: a tuple value is a pool to pick from, anything else is fixed.
    attrs: dict[str, Any] = field(default_factory=dict)
    materials: tuple[str, ...] = ()  # overrides the category's when the kind needs its own


@dataclass(frozen=True)
class _Spec:
    code: str
    path: str
    brands: tuple[str, ...]
    lines: tuple[str, ...]
    kinds: tuple[_Kind, ...]
    colors: tuple[str, ...]
    materials: tuple[str, ...]
    # Sentences true of every kind in the category.
    features: tuple[str, ...]
    uses: tuple[str, ...]
    care: tuple[str, ...]
    attrs: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # pools for every kind


# Openers name the item, its material and colour in one sentence; the other sentences come
# from the kind's and the category's pools so two products rarely read alike.
_OPENERS = (
    "{A_color} {kind} made from {material} by {brand}.",
    "The {line} {kind} from {brand} {comes} in {color} and {is} made of {material}.",
    "{brand} builds {this} {kind} from {material}, finished in {color}.",
    "Our {line} {kind} {pairs} {material} with a {color} colourway.",
    "{This} {color} {kind} {is} made of {material}.",
    "Meet the {line}: {a_kind} in {color} {material}.",
)


# Bath towels and bandsaws sit in one catalog on purpose: a search test checks that
# "bath towel" finds towels, so towel texts never mention saws and saw texts never say
# "bath" or "towel".
_SPECS: tuple[_Spec, ...] = (
    _Spec(
        code="TWL",
        path="Home/Bath/Towels",
        brands=("Harbor & Loom", "Softfield", "Aegean Mill", "Linden House"),
        lines=("Cloudsoft", "Hammam", "Spa Classic", "Riviera", "Everyday", "Plush Loop"),
        kinds=(
            _Kind(
                "Bath Towel",
                "towel",
                (18, 42),
                (
                    "Its generous size wraps comfortably around the body after a shower.",
                    "Sized for daily use after a bath or a shower.",
                ),
                {"size": "30 x 56 in"},
            ),
            _Kind(
                "Bath Sheet",
                "towel",
                (28, 58),
                ("Larger than a standard bath towel, it covers you from shoulders to knees.",),
                {"size": "35 x 70 in"},
            ),
            _Kind(
                "Hand Towel",
                "towel_stack",
                (9, 22),
                ("Sized for the powder room sink, guest baths and the kitchen hook.",),
                {"size": "16 x 30 in", "pieces": (2, 4)},
            ),
            _Kind(
                "Washcloth Set",
                "towel_stack",
                (8, 18),
                ("Soft washcloths for the face, the bath or cleaning up little ones.",),
                {"size": "13 x 13 in", "pieces": (6, 8, 12)},
            ),
            _Kind(
                "Beach Towel",
                "towel_beach",
                (22, 48),
                (
                    "Bold stripes and an oversized cut stand out on the sand.",
                    "Sand shakes off the flat-woven side, and it dries fast between swims.",
                ),
                {"size": "38 x 70 in"},
            ),
        ),
        colors=("white", "ivory", "sage", "navy", "grey", "blush pink", "sky blue", "sand"),
        materials=(
            "long-staple Turkish cotton",
            "combed Egyptian cotton",
            "organic cotton terry",
            "cotton waffle weave",
            "bamboo-cotton blend",
        ),
        features=(
            "Thick terry loops make it plush and highly absorbent straight out of the package.",
            "A tight low-lint weave dries skin quickly and gets softer with every wash.",
            "Double-stitched hems keep the edges from fraying after hundreds of launderings.",
            "The lightweight weave dries fast on a hook, so it never smells musty.",
            "A woven dobby border adds a hotel-style finish.",
            "Yarns are dyed before weaving, so the colour stays rich wash after wash.",
        ),
        uses=(
            "Ideal for the bathroom, the gym bag or a guest room.",
            "Hang it by the shower or roll a few in a basket for a spa look.",
            "A welcome upgrade for everyday showers and baths.",
        ),
        care=(
            "Machine wash warm with like colours and tumble dry low.",
            "Skip fabric softener to keep it absorbent.",
            "Wash before first use to lift loose fibres.",
        ),
        attrs={"gsm": (450, 550, 600, 650, 700, 800)},
    ),
    _Spec(
        code="SAW",
        path="Tools/Power Tools/Saws",
        brands=("Ridgeforge", "Kestrel Tools", "Ironbark", "Voltline"),
        lines=("Pro", "Workshop", "Trade Series", "Compact", "Heavy Duty", "Precision"),
        kinds=(
            _Kind(
                "Circular Saw",
                "saw_circular",
                (79, 229),
                (
                    "It cuts through 2x lumber in a single pass at 90 degrees.",
                    "The shoe tilts to 56 degrees for bevel cuts, with stops at common angles.",
                ),
                {"blade": "7-1/4 in", "power": ("corded 15 A", "cordless 18 V", "cordless 20 V")},
                ("die-cast aluminum", "magnesium alloy", "impact-resistant polymer"),
            ),
            _Kind(
                "Track Saw",
                "saw_circular",
                (249, 549),
                (
                    "It rides a guide rail for splinter-free, dead-straight rip cuts in plywood.",
                    "Plunge action starts a cut in the middle of a panel.",
                ),
                {"blade": "6-1/2 in", "power": ("corded 12 A", "cordless 18 V")},
                ("die-cast aluminum", "magnesium alloy"),
            ),
            _Kind(
                "Benchtop Bandsaw",
                "saw_band",
                (249, 499),
                (
                    "A continuous band blade makes tight curves and resaws thin boards.",
                    "The table tilts to 45 degrees and comes with a rip fence and miter gauge.",
                ),
                {"throat": "10 in", "power": ("1/2 hp motor", "3/4 hp motor")},
                ("steel and cast aluminum", "cast iron and steel"),
            ),
            _Kind(
                "Floor Bandsaw",
                "saw_band",
                (699, 1499),
                (
                    "A 14-inch frame resaws boards up to 12 inches tall.",
                    "Heavy cast wheels and a cast iron table damp vibration for smooth cuts.",
                ),
                {"throat": "14 in", "power": ("1-1/2 hp motor", "2 hp motor")},
                ("cast iron and steel",),
            ),
            _Kind(
                "Jigsaw",
                "saw_jig",
                (59, 189),
                (
                    "Orbital action speeds up rough cuts, then switches off for clean curves.",
                    "It cuts scrolls, circles and sink openings in countertops.",
                ),
                {"power": ("corded 6 A", "cordless 18 V", "cordless 20 V")},
                ("impact-resistant polymer", "glass-filled nylon", "die-cast aluminum"),
            ),
            _Kind(
                "Reciprocating Saw",
                "saw_recip",
                (89, 249),
                (
                    "Its long blade cuts through nails, pipe and studs during demolition.",
                    "It also makes quick work of pruning thick branches.",
                ),
                {"power": ("corded 12 A", "cordless 18 V", "cordless 20 V")},
                ("impact-resistant polymer", "glass-filled nylon", "magnesium alloy"),
            ),
        ),
        colors=("red", "yellow", "orange", "teal", "navy", "forest green", "black"),
        materials=("die-cast aluminum",),
        features=(
            "A brushless motor delivers steady torque without bogging down in hardwood.",
            "An electric brake stops the blade within two seconds of releasing the trigger.",
            "Tool-free blade changes get you back to cutting in seconds.",
            "A dust port connects to a shop vacuum to keep the cut line visible.",
            "Variable speed control lets you slow down for metal and plastics.",
            "An LED work light helps you follow the marked line.",
        ),
        uses=(
            "Suits hobby woodworkers and professional carpenters alike.",
            "A dependable addition to any garage workshop or job site.",
            "Built for framing, remodeling and furniture projects.",
        ),
        care=(
            "Unplug before changing blades and keep guards in place.",
            "Wear eye and hearing protection while cutting.",
            "Blow dust out of the motor vents after each project.",
        ),
    ),
    _Spec(
        code="MUG",
        path="Home/Kitchen/Mugs",
        brands=("Kilnworks", "Morning Fold", "Clay & Ember", "Tallow Street"),
        lines=("Daybreak", "Speckle", "Homestead", "Nordic", "Studio", "Campfire"),
        kinds=(
            _Kind(
                "Coffee Mug",
                "mug",
                (12, 26),
                (
                    "A comfortable loop handle fits three fingers, even with gloves on.",
                    "It holds a generous pour of drip coffee with room for milk.",
                ),
                {"capacity_ml": (350, 400)},
            ),
            _Kind(
                "Latte Mug",
                "mug_wide",
                (14, 28),
                (
                    "The wide rim is made for latte art and a generous head of foam.",
                    "Its bowl shape cradles warmly in two hands.",
                ),
                {"capacity_ml": (450, 500)},
            ),
            _Kind(
                "Espresso Cup",
                "mug_small",
                (8, 18),
                ("Sized for a single or double shot of espresso.",),
                {"capacity_ml": (80, 90)},
            ),
            _Kind(
                "Travel Mug",
                "mug_travel",
                (19, 39),
                (
                    "A leakproof sliding lid keeps coffee in the cup on the commute.",
                    "Vacuum insulation keeps drinks hot for six hours or iced for twelve.",
                ),
                {"capacity_ml": (350, 470, 590)},
                ("double-wall stainless steel", "insulated stainless steel"),
            ),
            _Kind(
                "Camp Mug",
                "mug",
                (11, 24),
                ("A flat base sits steady on a rock, a tailgate or a camp stove.",),
                {"capacity_ml": (350, 400)},
                ("enamel-coated steel", "titanium", "speckled enamelware"),
            ),
        ),
        colors=("white", "ivory", "terracotta", "sage", "navy", "mustard", "charcoal", "coral"),
        materials=(
            "hand-glazed stoneware",
            "fine porcelain",
            "reactive-glaze ceramic",
            "speckled stoneware",
        ),
        features=(
            "The thick walls keep coffee and tea warm through a slow breakfast.",
            "Every piece is finished by hand, so no two look exactly alike.",
            "The colour is fired in and will not fade or chip off.",
            "It feels balanced in the hand and sits steady on the desk.",
        ),
        uses=(
            "Perfect for morning coffee, tea or hot chocolate.",
            "A thoughtful gift for coffee lovers and office desks.",
            "Stacks neatly in kitchen cabinets and on open shelves.",
        ),
        care=(
            "Dishwasher safe on the top rack.",
            "Hand wash to keep the finish glossy for years.",
        ),
    ),
    _Spec(
        code="CKW",
        path="Home/Kitchen/Cookware",
        brands=("Copperhill", "Searwell", "Forge & Hearth", "Panterra"),
        lines=("Chef Series", "Heritage", "Everyday", "Bistro", "Pro Clad", "Farmhouse"),
        kinds=(
            _Kind(
                "Frying Pan",
                "pan",
                (29, 119),
                ("Flared sides make flipping omelettes and tossing vegetables easy.",),
                {"diameter_cm": (24, 28, 30)},
                ("ceramic nonstick aluminum", "tri-ply stainless steel", "carbon steel"),
            ),
            _Kind(
                "Skillet",
                "pan",
                (24, 89),
                (
                    "It holds heat for a hard sear on steaks and smash burgers.",
                    "It goes straight into a hot oven for cornbread and frittatas.",
                ),
                {"diameter_cm": (20, 26, 30)},
                ("pre-seasoned cast iron", "enameled cast iron"),
            ),
            _Kind(
                "Wok",
                "pan",
                (39, 99),
                ("A round bottom and tall sides keep ingredients moving over high heat.",),
                {"diameter_cm": (30, 35)},
                ("carbon steel", "hand-hammered carbon steel"),
            ),
            _Kind(
                "Saucepan",
                "pot_small",
                (34, 129),
                (
                    "Pouring rims on both sides keep sauces from dribbling down the side.",
                    "Just right for oatmeal, rice and reheating soup.",
                ),
                {"capacity_l": (1.5, 2, 3)},
                ("tri-ply stainless steel", "copper with a stainless lining"),
            ),
            _Kind(
                "Stock Pot",
                "pot",
                (49, 179),
                (
                    "A heavy encapsulated base prevents scorching during a long simmer.",
                    "Tall sides hold pasta water, stock or a big batch of chili.",
                ),
                {"capacity_l": (6, 8, 12)},
                ("tri-ply stainless steel", "hard-anodized aluminum", "enameled steel"),
            ),
            _Kind(
                "Dutch Oven",
                "pot",
                (69, 329),
                ("A tight-fitting lid locks in moisture for braises, stews and crusty bread.",),
                {"capacity_l": (4, 5.5, 7)},
                ("enameled cast iron", "pre-seasoned cast iron"),
            ),
        ),
        colors=("black", "silver", "copper", "red", "navy", "sage", "mustard", "charcoal"),
        materials=("tri-ply stainless steel",),
        features=(
            "Even heat spreads to the edges without hot spots.",
            "A riveted, stay-cool handle gives a secure grip when it is full.",
            "It works on gas, electric and induction cooktops.",
            "It is oven safe, so dishes can finish under the broiler.",
        ),
        uses=(
            "Goes from stovetop to oven to table.",
            "A workhorse for weeknight dinners and weekend projects.",
            "A lasting gift for new cooks.",
        ),
        care=(
            "Let it cool before washing to prevent warping.",
            "Use wooden or silicone utensils to protect the surface.",
            "Hand wash and dry promptly.",
        ),
    ),
    _Spec(
        code="SNK",
        path="Clothing/Shoes/Sneakers",
        brands=("Stridewell", "Northpace", "Kinetic Loft", "Asphalt Ave"),
        lines=("Glide", "Classic", "Cloudrunner", "Metro", "Flex", "Retro 82"),
        kinds=(
            _Kind(
                "Running Sneaker",
                "sneaker",
                (79, 169),
                ("A rocker-shaped midsole rolls you smoothly from heel to toe on runs.",),
                materials=("breathable engineered mesh", "recycled knit"),
            ),
            _Kind(
                "Court Sneaker",
                "sneaker",
                (59, 129),
                ("A flat cupsole and clean upper nod to classic tennis shoes.",),
                materials=("full-grain leather", "soft suede", "organic cotton canvas"),
            ),
            _Kind(
                "High-Top Sneaker",
                "sneaker_high",
                (69, 149),
                ("The high-top collar wraps and supports the ankle.",),
                materials=("full-grain leather", "organic cotton canvas", "soft suede"),
            ),
            _Kind(
                "Slip-On Sneaker",
                "sneaker",
                (45, 89),
                ("Elastic side panels let it slip on and off without untying.",),
                materials=("organic cotton canvas", "recycled knit"),
            ),
            _Kind(
                "Trail Sneaker",
                "sneaker",
                (89, 179),
                ("Deep multidirectional lugs grip on dirt, gravel and wet roots.",),
                materials=("breathable engineered mesh", "ripstop mesh"),
            ),
        ),
        colors=("white", "black", "grey", "navy", "red", "forest green", "sand", "sky blue"),
        materials=("breathable engineered mesh",),
        features=(
            "A cushioned midsole softens every step on hard pavement.",
            "The grippy rubber outsole holds on wet streets.",
            "A padded collar and tongue keep the fit snug around the heel.",
            "A removable footbed makes room for custom orthotics.",
            "Reflective details help you stay visible after dark.",
            "The lightweight build weighs under 300 grams per shoe.",
        ),
        uses=(
            "An easy everyday sneaker that pairs with jeans or shorts.",
            "Ready for commuting, travel and weekend errands.",
            "Comfortable for long days on your feet.",
        ),
        care=(
            "Spot clean with a damp cloth and air dry.",
            "Remove the insoles and let them dry between wears.",
        ),
        attrs={
            "gender": ("men's", "women's", "unisex"),
            "size_range": ("US 6-12", "US 7-13", "US 5-11", "EU 38-46"),
        },
    ),
    _Spec(
        code="TEE",
        path="Clothing/Tops/T-Shirts",
        brands=("Plainweave", "Basecamp Supply", "Common Thread Co.", "Tidewater"),
        lines=("Essential", "Heavyweight", "Sunday", "Vintage Wash", "Everyday", "Weekender"),
        kinds=(
            _Kind(
                "Crew Neck T-Shirt",
                "tshirt",
                (14, 38),
                ("A classic crew neck sits close at the collarbone.",),
            ),
            _Kind(
                "V-Neck T-Shirt",
                "tshirt_v",
                (14, 36),
                ("A shallow V-neck opens up the collar for a lighter look.",),
            ),
            _Kind(
                "Pocket T-Shirt",
                "tshirt_pocket",
                (18, 42),
                ("A single chest pocket adds a workwear touch.",),
            ),
            _Kind(
                "Long Sleeve T-Shirt",
                "tshirt_long",
                (22, 48),
                ("Long sleeves with ribbed cuffs make it a layer for cooler days.",),
            ),
            _Kind(
                "Striped T-Shirt",
                "tshirt_stripes",
                (19, 45),
                ("Yarn-dyed Breton stripes run all the way around the body.",),
            ),
        ),
        colors=("white", "black", "grey", "navy", "olive", "terracotta", "sky blue", "mustard"),
        materials=(
            "organic cotton jersey",
            "Supima cotton",
            "cotton-modal blend",
            "linen-cotton slub",
            "recycled cotton",
        ),
        features=(
            "The tubular knit has no side seams, so it drapes without twisting.",
            "Pre-shrunk fabric keeps its size after the first wash.",
            "A ribbed collar holds its shape instead of stretching out.",
            "Flat-lock seams lie smooth against the skin.",
            "A garment-dyed finish gives it a soft, lived-in feel from day one.",
        ),
        uses=(
            "Wear it alone in summer or layered under an overshirt.",
            "A wardrobe staple for weekends, travel and casual Fridays.",
            "Comfortable enough to lounge in, sharp enough for dinner.",
        ),
        care=(
            "Machine wash cold inside out and hang to dry.",
            "Tumble dry low; iron on the reverse if needed.",
        ),
        attrs={
            "fit": ("regular", "slim", "relaxed", "oversized"),
            "size_range": ("XS-XXL", "S-XL", "XS-XL"),
        },
    ),
    _Spec(
        code="BPK",
        path="Bags/Backpacks",
        brands=("Trailhand", "Metro Carry", "Summitry", "Boxcar Goods"),
        lines=("Commuter", "Voyager", "Campus", "Ridgeline", "Transit", "Daytrip"),
        kinds=(
            _Kind(
                "Laptop Backpack",
                "backpack",
                (59, 149),
                ("A padded sleeve fits a 16-inch laptop and keeps it off the ground.",),
                {"capacity_l": (20, 24, 28), "laptop_sleeve_in": 16},
            ),
            _Kind(
                "Rolltop Backpack",
                "backpack_roll",
                (79, 169),
                ("The roll-top closure expands for an extra jacket and seals out rain.",),
                {"capacity_l": (20, 25, 30)},
            ),
            _Kind(
                "Hiking Daypack",
                "backpack",
                (49, 129),
                ("An airflow back panel and hip belt keep you cool and steady on the trail.",),
                {"capacity_l": (18, 22, 28)},
            ),
            _Kind(
                "Travel Backpack",
                "backpack",
                (99, 229),
                ("A clamshell opening packs like a suitcase and fits carry-on limits.",),
                {"capacity_l": (35, 40, 45)},
            ),
            _Kind(
                "Mini Backpack",
                "backpack",
                (39, 89),
                ("Small enough for a phone, wallet and tablet without the bulk.",),
                {"capacity_l": (8, 10, 12)},
            ),
        ),
        colors=("black", "charcoal", "navy", "olive", "sand", "forest green", "burgundy"),
        materials=(
            "recycled ripstop nylon",
            "waxed cotton canvas",
            "water-resistant polyester",
            "full-grain leather",
            "Cordura nylon",
        ),
        features=(
            "Weatherproof zips and a coated base shrug off sudden rain.",
            "Padded, contoured shoulder straps spread the load on long days.",
            "A luggage pass-through slides over a suitcase handle.",
            "Quick-access pockets hold a phone, keys and a water bottle.",
            "Bar-tacked stitching reinforces every stress point.",
        ),
        uses=(
            "Built for commuting, school and weekend trips.",
            "Carries a day's worth of gear without the bulk.",
        ),
        care=(
            "Spot clean with mild soap and let it air dry.",
            "Empty the pockets and hang it to dry after a downpour.",
        ),
    ),
    _Spec(
        code="LMP",
        path="Home/Lighting/Desk Lamps",
        brands=("Lumen & Oak", "Brightdesk", "Halden Light", "Arcline"),
        lines=("Studio", "Focus", "Halo", "Mesa", "Orbit", "Linea"),
        kinds=(
            _Kind(
                "Desk Lamp",
                "lamp",
                (29, 99),
                ("A pivoting head aims light exactly where you need it.",),
            ),
            _Kind(
                "Architect Lamp",
                "lamp",
                (49, 149),
                ("Spring-balanced arms hold any position without drifting.",),
            ),
            _Kind(
                "LED Task Lamp",
                "lamp_bar",
                (39, 129),
                ("A wide LED bar spreads even, glare-free light across the whole desk.",),
            ),
            _Kind(
                "Clamp Desk Lamp",
                "lamp",
                (34, 89),
                ("A sturdy clamp grips desktops up to 6 cm thick and frees up space.",),
            ),
        ),
        colors=("black", "white", "gold", "navy", "sage", "red", "grey"),
        materials=(
            "powder-coated steel",
            "brushed aluminum",
            "solid brass",
            "steel and walnut",
            "matte aluminum",
        ),
        features=(
            "A dimmable LED with three colour temperatures goes from warm to daylight.",
            "A built-in USB-C port charges your phone while you work.",
            "Flicker-free light reduces eye strain during long reading sessions.",
            "The shade stays cool to the touch, even after hours of use.",
        ),
        uses=(
            "Lights up a home office, study desk or bedside table.",
            "Ideal for reading, drafting, sewing and homework.",
            "A focused task light for workbenches and craft tables.",
        ),
        care=(
            "Dust with a dry cloth; the LED is rated for 25,000 hours.",
            "Unplug before cleaning the shade.",
        ),
        attrs={
            "lumens": (400, 500, 650, 800, 1000),
            "color_temperature": ("2700K", "3000K", "2700-6500K"),
        },
    ),
    _Spec(
        code="HPH",
        path="Electronics/Audio/Headphones",
        brands=("Sonance Lab", "Quietwave", "Auralis", "Beatform"),
        lines=("Studio", "Air", "Pulse", "Voyage", "Core", "Reference"),
        kinds=(
            _Kind(
                "Over-Ear Headphones",
                "headphones",
                (79, 349),
                ("Memory-foam ear cushions surround the ears for long listening sessions.",),
                {"type": "over-ear", "battery_hours": (30, 40, 60)},
            ),
            _Kind(
                "On-Ear Headphones",
                "headphones",
                (49, 179),
                ("Compact on-ear cups fold flat into a small travel pouch.",),
                {"type": "on-ear", "battery_hours": (20, 30, 40)},
            ),
            _Kind(
                "Noise Cancelling Headphones",
                "headphones",
                (149, 399),
                ("Active noise cancelling quiets engines, traffic and office chatter.",),
                {"type": "over-ear", "noise_cancelling": True, "battery_hours": (24, 30)},
            ),
            _Kind(
                "Wireless Earbuds",
                "earbuds",
                (39, 249),
                (
                    "The pocket-size charging case adds extra listening time on the go.",
                    "Silicone tips in three sizes seal out background noise.",
                ),
                {"type": "in-ear", "battery_hours": (6, 8, 10)},
                ("recycled plastic", "soft-touch plastic", "matte polycarbonate"),
            ),
        ),
        colors=("black", "white", "silver", "navy", "sand", "forest green", "blush pink"),
        materials=(
            "aluminum and plush memory foam",
            "soft-touch plastic and protein leather",
            "recycled plastic and fabric",
            "stainless steel and vegan leather",
        ),
        features=(
            "Bluetooth 5.3 multipoint pairs with a laptop and a phone at once.",
            "Custom dynamic drivers deliver deep bass and clear vocals.",
            "A ten-minute quick charge adds hours of playback.",
            "Beamforming microphones keep your voice clear on calls.",
        ),
        uses=(
            "Made for commuting, flights and focused work.",
            "Great for music, podcasts, gaming and video calls.",
        ),
        care=(
            "Wipe them with a dry cloth after use.",
            "Store them in the included case between trips.",
        ),
        attrs={"connectivity": ("Bluetooth", "Bluetooth + USB-C audio")},
    ),
    _Spec(
        code="YGM",
        path="Sports/Yoga/Mats",
        brands=("Groundwork", "Lotus Field", "Balance Studio", "Stillpoint"),
        lines=("Flow", "Grip Pro", "Studio", "Align", "Restore", "Sunrise"),
        kinds=(
            _Kind(
                "Yoga Mat",
                "yoga_mat",
                (29, 89),
                ("Balanced cushioning keeps you stable in standing and balancing poses.",),
                {"thickness_mm": (4, 5, 6)},
                ("natural tree rubber", "TPE foam", "PVC-free polyurethane"),
            ),
            _Kind(
                "Travel Yoga Mat",
                "yoga_mat",
                (35, 79),
                ("It weighs under a kilogram and folds small enough for a suitcase.",),
                {"thickness_mm": (1.5, 2), "foldable": True},
                ("natural tree rubber", "TPE foam"),
            ),
            _Kind(
                "Cork Yoga Mat",
                "yoga_mat",
                (59, 119),
                ("A natural cork surface gets grippier as you sweat.",),
                {"thickness_mm": (4, 5, 6)},
                ("cork over natural rubber", "cork over TPE"),
            ),
            _Kind(
                "Thick Exercise Mat",
                "yoga_mat_flat",
                (25, 69),
                ("Extra-thick foam cushions knees and spine for floor exercise and stretching.",),
                {"thickness_mm": (10, 12, 15)},
                ("NBR foam", "high-density TPE foam"),
            ),
        ),
        colors=("lavender", "teal", "sage", "charcoal", "coral", "sand", "navy", "blush pink"),
        materials=("natural tree rubber",),
        features=(
            "An open-cell top layer grips even in hot yoga when hands get sweaty.",
            "Etched alignment lines help you place hands and feet evenly.",
            "It is light enough to carry to class with the included strap.",
            "The non-slip base stays put on wood and tile floors.",
        ),
        uses=(
            "Suited to vinyasa, hatha, pilates and stretching.",
            "Good for home workouts, core training and cool-downs.",
            "Rolls up for studio classes, parks and travel.",
        ),
        care=(
            "Wipe down with a mild soap solution and air dry away from sun.",
            "Let it air out for a few days before the first session.",
        ),
        attrs={"length_cm": (173, 183, 190)},
    ),
    _Spec(
        code="SOF",
        path="Home/Furniture/Sofas",
        brands=("Hearthside", "Nordvik Living", "Lounge & Co.", "Westbrook Home"),
        lines=("Haven", "Mid-Century", "Cloud", "Copenhagen", "Marlow", "Sundance"),
        kinds=(
            _Kind(
                "Three-Seat Sofa",
                "sofa",
                (699, 2199),
                ("Three deep seats leave room to stretch out for a nap.",),
                {"seats": 3, "width_cm": (198, 214, 228)},
            ),
            _Kind(
                "Loveseat",
                "sofa_small",
                (499, 1399),
                ("Scaled for apartments, reading corners and smaller living rooms.",),
                {"seats": 2, "width_cm": (142, 152, 165)},
            ),
            _Kind(
                "Sectional Sofa",
                "sofa_sectional",
                (1199, 3499),
                ("The reversible chaise can sit on the left or right side.",),
                {"seats": 5, "width_cm": (260, 280, 300)},
            ),
            _Kind(
                "Sleeper Sofa",
                "sofa",
                (899, 2499),
                ("A pull-out queen mattress hides under the seat cushions for guests.",),
                {"seats": 3, "sleeper": True, "width_cm": (206, 218)},
            ),
        ),
        colors=("grey", "charcoal", "navy", "sage", "ivory", "terracotta", "mustard", "brown"),
        materials=(
            "performance linen",
            "cotton velvet",
            "boucle",
            "top-grain leather",
            "stain-resistant twill",
        ),
        features=(
            "A kiln-dried hardwood frame and sinuous springs keep the seat from sagging.",
            "Feather-wrapped foam cushions are soft but hold their shape.",
            "The cushion covers zip off for cleaning.",
            "Tapered solid-oak legs give it a light mid-century stance.",
            "It arrives in boxes that fit through narrow doors and assembles without tools.",
        ),
        uses=(
            "Anchors a living room, den or open-plan lounge.",
            "Seats the whole family for movie nights.",
        ),
        care=(
            "Vacuum regularly and blot spills right away.",
            "Fluff and rotate the cushions weekly for even wear.",
        ),
        attrs={"depth_cm": (88, 94, 101)},
    ),
    _Spec(
        code="PLW",
        path="Home/Decor/Throw Pillows",
        brands=("Cozy Row", "Fernwood", "Atelier Nest", "Sundown Textiles"),
        lines=("Woven", "Velvet Luxe", "Boho", "Coastal", "Heritage", "Minimal"),
        kinds=(
            _Kind(
                "Throw Pillow",
                "pillow",
                (19, 59),
                ("A square shape that works on any sofa, chair or bed.",),
                {"size": "18 x 18 in"},
            ),
            _Kind(
                "Striped Throw Pillow",
                "pillow_stripes",
                (22, 59),
                ("Woven stripes add a relaxed, coastal feel.",),
                {"size": "20 x 20 in"},
            ),
            _Kind(
                "Dotted Throw Pillow",
                "pillow_dots",
                (22, 54),
                ("A playful embroidered dot pattern brightens a plain sofa.",),
                {"size": "18 x 18 in"},
            ),
            _Kind(
                "Lumbar Pillow",
                "pillow_lumbar",
                (24, 64),
                ("Its long, narrow shape supports the lower back in armchairs.",),
                {"size": "14 x 24 in"},
            ),
            _Kind(
                "Round Floor Cushion",
                "pillow_round",
                (39, 89),
                ("It doubles as extra seating or a meditation seat.",),
                {"size": "24 in round"},
            ),
        ),
        colors=("mustard", "terracotta", "sage", "navy", "blush pink", "ivory", "teal", "burgundy"),
        materials=(
            "stonewashed linen",
            "cotton velvet",
            "chunky wool knit",
            "cotton canvas",
            "boucle",
        ),
        features=(
            "A hidden zip lets you take the cover off for washing.",
            "The feather-down insert is plump and easy to karate-chop.",
            "Hand-knotted tassels finish each corner.",
            "The textured weave adds depth without feeling scratchy.",
            "Piped edges keep a crisp, tailored outline.",
        ),
        uses=(
            "Layer it on a sofa, armchair or made bed.",
            "Adds a pop of colour to a neutral living room.",
            "Comfortable support for reading nooks and window seats.",
        ),
        care=(
            "Machine wash the cover cold on gentle and line dry.",
            "Spot clean the cover with a damp cloth.",
        ),
        attrs={"fill": ("feather-down", "down alternative", "polyester fiber")},
    ),
    _Spec(
        code="WCH",
        path="Accessories/Watches",
        brands=("Meridian", "Halvorsen", "Tempo Field", "Corvid & Co."),
        lines=("Navigator", "Classic", "Field", "Minimal", "Chrono", "Harbor"),
        kinds=(
            _Kind(
                "Automatic Watch",
                "watch",
                (249, 899),
                (
                    "A self-winding movement with a 42-hour power reserve runs overnight.",
                    "An exhibition caseback shows the movement at work.",
                ),
                {"movement": "automatic", "water_resistance": "50 m"},
            ),
            _Kind(
                "Quartz Watch",
                "watch",
                (79, 249),
                ("A precise quartz movement runs for years on one battery.",),
                {"movement": "quartz", "water_resistance": "30 m"},
            ),
            _Kind(
                "Dive Watch",
                "watch",
                (199, 749),
                (
                    "A unidirectional bezel and screw-down crown keep water out to 200 m.",
                    "Luminous hands and markers stay readable in the dark.",
                ),
                {"movement": ("automatic", "quartz"), "water_resistance": "200 m"},
            ),
            _Kind(
                "Smartwatch",
                "smartwatch",
                (149, 449),
                (
                    "It tracks steps, heart rate and sleep and shows phone notifications.",
                    "The always-on display stays readable in bright sunlight.",
                ),
                {"movement": "digital", "battery_days": (2, 5, 7)},
                ("lightweight aluminum", "brushed titanium", "316L stainless steel"),
            ),
        ),
        colors=("black", "navy", "silver", "gold", "brown", "forest green", "white"),
        materials=(
            "316L stainless steel",
            "brushed titanium",
            "gold-tone stainless steel",
            "ceramic",
        ),
        features=(
            "Sapphire crystal glass resists scratches from daily wear.",
            "A quick-release strap swaps from leather to steel in seconds.",
            "A slim case slides easily under a shirt cuff.",
        ),
        uses=(
            "Dressy enough for the office, tough enough for the weekend.",
            "A reliable companion for travel and outdoor days.",
            "A lasting gift for graduations and anniversaries.",
        ),
        care=(
            "Wipe with a soft cloth after contact with salt water.",
            "Keep it away from strong magnets.",
        ),
        attrs={
            "case_mm": (36, 38, 40, 42, 44),
            "strap": ("leather", "steel bracelet", "silicone", "nylon", "steel mesh"),
        },
    ),
)


def _lower_noun(noun: str) -> str:
    """ "Dutch Oven" -> "Dutch oven", "LED Task Lamp" -> "LED task lamp", "T-Shirt" ->
    "T-shirt": lower-case mid-sentence, but keep proper nouns and acronyms."""

    def word(w: str) -> str:
        if w.isupper() or w == "Dutch":
            return w
        if w.startswith("T-"):
            return "T-" + w[2:].lower()
        return w.lower()

    return " ".join(word(w) for w in noun.split())


def _article(phrase: str, plural: bool = False) -> str:
    if plural:
        return phrase
    first = phrase.split()[0]
    # Acronyms are read letter by letter: "an LED lamp".
    vowel_sound = first[0] in "AEFHILMNORSX" if first.isupper() else first[0] in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {phrase}"


def _price(rng: random.Random, low: int, high: int) -> str:
    # Shops end prices in .99/.00/.50; the string keeps Decimal exactness.
    whole = rng.randint(low, high)
    return f"{whole}.{rng.choice(('99', '99', '00', '50'))}"


def _pick(rng: random.Random, pools: dict[str, Any]) -> dict[str, Any]:
    return {k: rng.choice(v) if isinstance(v, tuple) else v for k, v in pools.items()}


def _description(rng: random.Random, spec: _Spec, kind: _Kind, words: dict[str, str]) -> str:
    # Two to four sentences: the opener, something only this kind has (or a category
    # feature), then a feature, a use and care advice at random.
    sentences = [rng.choice(_OPENERS).format(**words)]
    if kind.notes:
        sentences.append(rng.choice(kind.notes))
    if not kind.notes or rng.random() < 0.5:
        sentences.append(rng.choice(spec.features))
    if rng.random() < 0.6:
        sentences.append(rng.choice(spec.uses))
    if rng.random() < 0.5:
        sentences.append(rng.choice(spec.care))
    return " ".join(sentences[:4])


def _products_for(spec: _Spec) -> list[dict[str, Any]]:
    # One seeded RNG per category: editing one category never reshuffles another.
    rng = random.Random(f"vitrine-demo-{spec.code}")
    products: list[dict[str, Any]] = []
    seen_names: set[str] = set()
    for number in range(1, PER_CATEGORY + 1):
        # Kinds in rotation, so every kind (bath towels as much as washcloths) is stocked.
        kind = spec.kinds[(number - 1) % len(spec.kinds)]
        while True:
            brand = rng.choice(spec.brands)
            line = rng.choice(spec.lines)
            color = rng.choice(spec.colors)
            name = f"{brand} {line} {kind.noun}, {color.title()}"
            if name not in seen_names:
                seen_names.add(name)
                break
        material = rng.choice(kind.materials or spec.materials)
        accent = rng.choice([c for c in PALETTE if c != color])
        plural = kind.noun.endswith("s")  # "Headphones", "Earbuds"
        noun = _lower_noun(kind.noun)
        words = {
            "A_color": _article(color, plural).capitalize(),
            "a_kind": _article(noun, plural),
            "This": "These" if plural else "This",
            "this": "these" if plural else "this",
            "is": "are" if plural else "is",
            "comes": "come" if plural else "comes",
            "pairs": "pair" if plural else "pairs",
            "color": color,
            "kind": noun,
            "material": material,
            "brand": brand,
            "line": line,
        }
        attributes = {"color": color, "material": material}
        attributes.update(_pick(rng, spec.attrs))
        attributes.update(_pick(rng, kind.attrs))
        products.append(
            {
                "sku": f"DEMO-{spec.code}-{number:04d}",
                "name": name,
                "description": _description(rng, spec, kind, words),
                "brand": brand,
                "price": _price(rng, *kind.price),
                "currency": "USD",
                "attributes": attributes,
                "category": spec.path,
                "illustration": {"shape": kind.shape, "color": color, "accent": accent},
            }
        )
    return products


def demo_products() -> list[dict[str, Any]]:
    """Every demo product as a dict of `upsert_product` keyword arguments plus
    "illustration" (shape, colour, accent colour of its drawing). Pure and deterministic.

    Categories are interleaved, so the first N products already span the whole catalog
    (`load_demo --limit 20` is a small but varied shop)."""
    per_category = [_products_for(spec) for spec in _SPECS]
    return [products[i] for i in range(PER_CATEGORY) for products in per_category]


_BATCH = 64


def load_demo_catalog(*, limit: int | None = None, progress: bool = False) -> int:
    """Write the demo products (the first `limit` of them) through the catalog services and
    return how many were written. Idempotent by SKU: unchanged products are not saved
    again, and a product that already has a photo does not get another drawing."""
    products = demo_products()
    if limit is not None:
        products = products[: max(limit, 0)]
    written = 0
    # disable=None lets tqdm hide itself when stderr is not a terminal (logs, CI).
    bar = tqdm(
        total=len(products), desc="demo catalog", unit="product", disable=None if progress else True
    )
    # Batches of products per transaction: the search index is told once per batch (its
    # embedding tasks come batched), and an interrupted load leaves whole products behind,
    # never a product without its photo.
    for start in range(0, len(products), _BATCH):
        with transaction.atomic():
            for item in products[start : start + _BATCH]:
                product, _created = upsert_product(**{key: item[key] for key in _PRODUCT_KEYS})
                if not product.images.exists():
                    attach_image(
                        product=product,
                        content=render_illustration(item),
                        filename=f"{item['sku']}.png",
                        alt=item["name"],
                    )
                written += 1
                bar.update(1)
    bar.close()
    return written


# --- Illustrations ----------------------------------------------------------------------


def _shade(color: RGB, factor: float) -> RGB:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(int(c * factor) for c in color)  # type: ignore[return-value]
    mix = factor - 1
    return tuple(int(c + (255 - c) * mix) for c in color)  # type: ignore[return-value]


class _Pen:
    """ImageDraw in a 320x320 coordinate space, drawn at the supersampled size."""

    def __init__(self, draw: ImageDraw.ImageDraw, scale: int) -> None:
        self.draw = draw
        self.k = scale

    def _xy(self, points: Any) -> list[float]:
        return [v * self.k for v in points]

    def rect(self, box, fill, outline=None, width=3, radius=0) -> None:
        self.draw.rounded_rectangle(
            self._xy(box), radius=radius * self.k, fill=fill, outline=outline,
            width=width * self.k if outline else 0,
        )  # fmt: skip

    def ellipse(self, box, fill, outline=None, width=3) -> None:
        self.draw.ellipse(
            self._xy(box), fill=fill, outline=outline, width=width * self.k if outline else 0
        )

    def polygon(self, points, fill, outline=None, width=3) -> None:
        flat = self._xy([v for point in points for v in point])
        self.draw.polygon(flat, fill=fill, outline=outline, width=width * self.k if outline else 0)

    def line(self, points, fill, width=3) -> None:
        flat = self._xy([v for point in points for v in point])
        self.draw.line(flat, fill=fill, width=width * self.k, joint="curve")

    def arc(self, box, start, end, fill, width=3) -> None:
        self.draw.arc(self._xy(box), start, end, fill=fill, width=width * self.k)

    def teeth(self, start, end, depth, count, fill) -> None:
        """Saw teeth: triangles along the segment start-end, pointing to its left side."""
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = (y1 - y0) / length * depth, -(x1 - x0) / length * depth
        for i in range(count):
            ax, ay = x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count
            bx, by = x0 + (x1 - x0) * (i + 1) / count, y0 + (y1 - y0) * (i + 1) / count
            self.polygon([(ax, ay), (bx, by), (bx + nx, by + ny)], fill=fill)


def _towel(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    p.line([(50, 70), (270, 70)], fill=(150, 150, 155), width=8)
    p.ellipse((42, 62, 58, 78), fill=(120, 120, 125))
    p.ellipse((262, 62, 278, 78), fill=(120, 120, 125))
    p.rect((85, 66, 235, 280), fill=c, outline=dark, radius=6)
    if variant == "beach":
        for x in range(85, 235, 30):
            p.rect((x, 100, x + 15, 280), fill=a)
        p.rect((85, 66, 235, 280), fill=None, outline=dark, radius=6)
    else:
        for y in (226, 242):
            p.rect((85, y, 235, y + 8), fill=a)
    p.rect((85, 66, 235, 100), fill=_shade(c, 0.88), outline=dark, radius=6)
    for x in range(95, 230, 12):  # fringe
        p.line([(x, 280), (x, 292)], fill=dark, width=2)


def _towel_stack(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    for i, y in enumerate((210, 160, 110)):
        tone = _shade(c, 1 - 0.06 * i)
        p.rect((60 + i * 6, y, 260 - i * 6, y + 52), fill=tone, outline=dark, radius=22)
        p.rect((100 + i * 6, y + 20, 220 - i * 6, y + 28), fill=a)


def _saw_circular(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    cx, cy, r = 160, 195, 78
    for i in range(28):  # teeth around the blade
        t0, t1 = 2 * math.pi * i / 28, 2 * math.pi * (i + 0.6) / 28
        p.polygon(
            [
                (cx + r * math.cos(t0), cy + r * math.sin(t0)),
                (cx + (r + 10) * math.cos(t0), cy + (r + 10) * math.sin(t0)),
                (cx + r * math.cos(t1), cy + r * math.sin(t1)),
            ],
            fill=(120, 124, 130),
        )
    p.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_STEEL, outline=(120, 124, 130))
    p.ellipse((cx - 12, cy - 12, cx + 12, cy + 12), fill=(90, 92, 96))
    p.draw.pieslice(p._xy((cx - 90, cy - 90, cx + 90, cy + 90)), 180, 360, fill=c, outline=dark)
    p.rect((120, 70, 240, 130), fill=c, outline=dark, radius=18)  # motor
    p.rect((200, 58, 285, 92), fill=_shade(c, 0.35), radius=16)  # handle
    p.rect((20, 265, 300, 278), fill=(150, 154, 160), radius=4)  # base plate


def _saw_band(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((190, 40, 235, 275), fill=c, outline=dark, radius=10)  # column
    p.rect((80, 35, 235, 115), fill=c, outline=dark, radius=30)  # upper wheel housing
    p.rect((80, 200, 235, 275), fill=c, outline=dark, radius=24)  # lower wheel housing
    p.line([(115, 115), (115, 200)], fill=_STEEL, width=5)  # the band blade
    for y in range(118, 198, 8):
        p.polygon([(112, y), (112, y + 6), (106, y + 6)], fill=(110, 114, 120))
    p.rect((45, 160, 260, 174), fill=(140, 144, 150), outline=(100, 102, 108), radius=3)
    p.rect((100, 115, 130, 135), fill=_shade(c, 0.4), radius=4)  # blade guide
    p.rect((95, 275, 225, 295), fill=(70, 72, 78), radius=4)
    p.ellipse((200, 220, 220, 240), fill=a)  # switch


def _saw_jig(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((70, 120, 250, 185), fill=c, outline=dark, radius=20)
    p.arc((120, 60, 240, 170), 180, 360, fill=_shade(c, 0.35), width=18)  # top handle
    p.rect((80, 185, 240, 197), fill=_STEEL, outline=(110, 114, 120), radius=3)  # shoe
    p.rect((108, 197, 120, 275), fill=_STEEL)
    p.teeth((108, 200), (108, 272), 7, 10, (110, 114, 120))
    p.ellipse((200, 140, 222, 162), fill=a)


def _saw_recip(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((120, 130, 290, 190), fill=c, outline=dark, radius=24)
    p.rect((230, 175, 275, 250), fill=_shade(c, 0.35), radius=14)  # grip
    p.rect((95, 140, 125, 180), fill=(90, 92, 96), radius=6)  # shoe
    p.polygon([(20, 158), (100, 152), (100, 170), (28, 170)], fill=_STEEL)
    p.teeth((28, 170), (100, 170), -7, 11, (110, 114, 120))
    p.ellipse((250, 140, 270, 160), fill=a)


def _mug(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    box = {"wide": (70, 120, 220, 245), "small": (110, 165, 200, 245)}.get(
        variant, (90, 95, 210, 250)
    )
    x0, y0, x1, y1 = box
    h = (y1 - y0) * 0.45
    p.arc((x1 - 25, y0 + 20, x1 + 45, y0 + 20 + h * 1.6), 270, 90, fill=dark, width=14)
    p.arc((x1 - 25, y0 + 20, x1 + 45, y0 + 20 + h * 1.6), 270, 90, fill=c, width=9)
    p.ellipse((x0, y1 - 16, x1, y1 + 16), fill=c, outline=dark)
    p.rect((x0, y0, x1, y1), fill=c)
    p.line([(x0, y0), (x0, y1)], fill=dark, width=3)
    p.line([(x1, y0), (x1, y1)], fill=dark, width=3)
    p.ellipse((x0, y0 - 14, x1, y0 + 14), fill=_shade(c, 0.75), outline=dark)
    p.ellipse((x0 + 8, y0 - 8, x1 - 8, y0 + 10), fill=(92, 60, 40))  # coffee
    p.rect((x0, y0 + (y1 - y0) * 0.55, x1, y0 + (y1 - y0) * 0.62), fill=a)


def _mug_travel(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    p.polygon([(110, 95), (210, 95), (200, 270), (120, 270)], fill=c, outline=dark)
    p.ellipse((120, 260, 200, 280), fill=c, outline=dark)
    p.rect((102, 60, 218, 98), fill=_shade(a, 0.8), outline=_shade(a, 0.5), radius=10)  # lid
    p.rect((175, 64, 205, 72), fill=_shade(a, 0.5), radius=3)
    p.rect((117, 170, 203, 190), fill=_shade(c, 0.8))  # grip band


def _pan(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.5)
    p.polygon([(215, 170), (305, 150), (310, 168), (222, 192)], fill=_shade(c, 0.4))
    p.ellipse((30, 120, 230, 240), fill=c, outline=dark, width=4)
    p.ellipse((48, 132, 212, 226), fill=_shade(c, 0.8))
    p.ellipse((80, 150, 140, 185), fill=_shade(c, 0.9))  # sheen


def _pot(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.5)
    box = (95, 140, 225, 245) if variant == "small" else (70, 120, 250, 260)
    x0, y0, x1, y1 = box
    if variant == "small":
        p.polygon([(x1, y0 + 20), (300, y0 + 5), (302, y0 + 20), (x1, y0 + 36)], fill=dark)
    else:
        p.rect((x0 - 28, y0 + 20, x0 + 5, y0 + 36), fill=dark, radius=8)
        p.rect((x1 - 5, y0 + 20, x1 + 28, y0 + 36), fill=dark, radius=8)
    p.ellipse((x0, y1 - 18, x1, y1 + 18), fill=c, outline=dark)
    p.rect((x0, y0, x1, y1), fill=c)
    p.line([(x0, y0), (x0, y1)], fill=dark, width=3)
    p.line([(x1, y0), (x1, y1)], fill=dark, width=3)
    p.ellipse((x0 - 6, y0 - 22, x1 + 6, y0 + 16), fill=_shade(c, 0.85), outline=dark)  # lid
    mid = (x0 + x1) / 2
    p.rect((mid - 18, y0 - 34, mid + 18, y0 - 14), fill=_STEEL, outline=(110, 114, 120), radius=8)


def _sneaker(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    if variant == "high":  # the collar climbs above the ankle
        heel = [(40, 224), (44, 110), (100, 100), (118, 130)]
    else:
        heel = [(40, 224), (42, 162), (72, 150), (104, 170)]
    toe = [(128, 140), (150, 118), (176, 124), (214, 164), (262, 182), (292, 204), (294, 224)]
    p.polygon(heel + toe, fill=c, outline=dark)
    p.rect((32, 220, 300, 250), fill=(245, 245, 240), outline=(170, 170, 165), radius=12)
    p.rect((32, 242, 300, 250), fill=_shade(a, 0.7), radius=4)
    p.arc((70, 150, 250, 290), 200, 300, fill=a, width=12)  # side stripe
    for i in range(4):  # laces across the vamp
        x, y = 150 + i * 16, 128 + i * 10
        p.line([(x - 8, y + 6), (x + 10, y - 4)], fill=(245, 245, 240), width=4)


def _tshirt(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "long":
        sleeves_l = [(95, 75), (30, 230), (62, 240), (100, 140)]
        sleeves_r = [(225, 75), (290, 230), (258, 240), (220, 140)]
    else:
        sleeves_l = [(95, 75), (40, 130), (70, 158), (100, 140)]
        sleeves_r = [(225, 75), (280, 130), (250, 158), (220, 140)]
    p.polygon(sleeves_l, fill=_shade(c, 0.92), outline=dark)
    p.polygon(sleeves_r, fill=_shade(c, 0.92), outline=dark)
    body = [(95, 75), (130, 62), (190, 62), (225, 75), (220, 280), (100, 280)]
    p.polygon(body, fill=c, outline=dark)
    if variant == "stripes":
        for y in range(110, 275, 26):
            p.rect((100, y, 221, y + 11), fill=a)
    if variant == "pocket":
        p.rect((175, 115, 205, 150), fill=_shade(c, 0.85), outline=dark, radius=3)
    if variant == "v":
        p.polygon([(130, 62), (190, 62), (160, 112)], fill=_BACKGROUND, outline=dark)
    else:
        p.ellipse((130, 48, 190, 82), fill=_BACKGROUND, outline=dark)


def _backpack(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.arc((130, 40, 190, 90), 180, 360, fill=dark, width=8)  # grab handle
    p.rect((62, 100, 90, 250), fill=_shade(c, 0.7), radius=12)  # straps peeking out
    p.rect((230, 100, 258, 250), fill=_shade(c, 0.7), radius=12)
    top = 45 if variant == "roll" else 62
    p.rect((80, top, 240, 285), fill=c, outline=dark, radius=44 if variant != "roll" else 14)
    if variant == "roll":
        p.rect((80, 45, 240, 85), fill=_shade(c, 0.8), outline=dark, radius=10)
        p.rect((148, 70, 172, 130), fill=_shade(a, 0.8), radius=4)  # buckle strap
    else:
        p.arc((98, 80, 222, 160), 200, 340, fill=dark, width=3)  # zip
    p.rect((100, 175, 220, 268), fill=_shade(c, 0.85), outline=dark, radius=22)
    p.line([(112, 195), (208, 195)], fill=a, width=4)


def _lamp(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.polygon([(205, 205), (285, 205), (300, 285), (190, 285)], fill=(255, 246, 196))
    p.ellipse((55, 262, 175, 290), fill=c, outline=dark)
    if variant == "bar":
        p.line([(115, 270), (115, 90), (265, 70)], fill=c, width=12)
        p.rect((185, 60, 290, 84), fill=_shade(c, 0.8), outline=dark, radius=8)
        return
    p.line([(115, 270), (90, 160), (200, 95)], fill=c, width=11)
    for x, y in ((115, 268), (90, 160), (200, 95)):
        p.ellipse((x - 9, y - 9, x + 9, y + 9), fill=_shade(c, 0.5))
    p.polygon([(190, 80), (230, 70), (285, 200), (205, 205)], fill=c, outline=dark)
    p.ellipse((205, 190, 285, 215), fill=(255, 236, 150), outline=dark)


def _headphones(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.arc((70, 50, 250, 230), 180, 360, fill=dark, width=20)
    p.arc((70, 50, 250, 230), 185, 355, fill=c, width=14)
    for x0 in (50, 215):
        p.rect((x0 + 5, 125, x0 + 50, 150), fill=_STEEL, radius=4)  # yokes
        p.rect((x0, 140, x0 + 55, 245), fill=c, outline=dark, radius=24)
        pad_x = x0 + 38 if x0 < 160 else x0 - 6
        p.rect((pad_x, 150, pad_x + 22, 235), fill=(60, 60, 64), radius=10)
    p.ellipse((65, 180, 85, 200), fill=a)


def _earbuds(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.55)
    p.rect((85, 170, 235, 265), fill=c, outline=dark, radius=40)  # case
    p.line([(90, 205), (230, 205)], fill=dark, width=3)
    p.ellipse((152, 240, 168, 256), fill=a)
    for x in (110, 190):
        p.rect((x + 14, 80, x + 28, 150), fill=c, outline=dark, radius=7)  # stem
        p.ellipse((x, 50, x + 40, 95), fill=c, outline=dark)
        p.ellipse((x + 10, 60, x + 26, 76), fill=(70, 70, 74))


def _yoga_mat(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "flat":
        p.polygon([(40, 250), (100, 150), (290, 150), (250, 250)], fill=c, outline=dark)
        p.polygon([(40, 250), (250, 250), (250, 266), (40, 266)], fill=dark)
        for i in range(1, 4):
            p.line([(70 + i * 4, 250 - i * 25), (265 + i * 6, 250 - i * 25)], fill=a, width=2)
        return
    p.rect((80, 120, 270, 210), fill=c, outline=dark, radius=4)
    p.rect((140, 116, 156, 214), fill=a, radius=3)  # carry straps
    p.rect((210, 116, 226, 214), fill=a, radius=3)
    p.ellipse((40, 120, 120, 210), fill=_shade(c, 0.9), outline=dark)
    for r in (30, 21, 12):
        p.arc((80 - r, 165 - r, 80 + r, 165 + r), 30, 330, fill=dark, width=3)
    p.polygon([(100, 210), (290, 210), (300, 230), (110, 230)], fill=_shade(c, 0.95))


def _sofa(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    x0, x1 = (55, 265) if variant == "small" else (25, 295)
    if variant == "sectional":
        x1 = 230
        p.rect((200, 190, 300, 250), fill=c, outline=dark, radius=12)  # chaise
        p.rect((205, 178, 295, 200), fill=_shade(c, 1.12), outline=dark, radius=10)
    p.rect((x0 + 18, 110, x1 - 18, 200), fill=_shade(c, 0.9), outline=dark, radius=22)
    seats = 2 if variant == "small" else 3
    width = (x1 - x0 - 60) / seats
    for i in range(seats):
        sx = x0 + 30 + i * width
        p.rect((sx, 178, sx + width, 210), fill=_shade(c, 1.12), outline=dark, radius=10)
    p.rect((x0 + 20, 205, x1 - 20, 245), fill=c, outline=dark, radius=8)
    p.rect((x0, 150, x0 + 38, 245), fill=c, outline=dark, radius=16)  # arms
    if variant != "sectional":
        p.rect((x1 - 38, 150, x1, 245), fill=c, outline=dark, radius=16)
    for lx in (x0 + 12, x1 - 22):
        p.polygon([(lx, 245), (lx + 10, 245), (lx + 8, 275), (lx + 3, 275)], fill=(110, 80, 55))
    p.rect((x0 + 50, 140, x0 + 95, 180), fill=a, radius=8)  # a cushion for scale


def _pillow(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    dark = _shade(c, 0.6)
    if variant == "round":
        p.ellipse((50, 70, 270, 270), fill=c, outline=dark, width=4)
        for i in range(12):  # pleats gathered to a centre button
            t = 2 * math.pi * i / 12
            p.line([(160, 170), (160 + 100 * math.cos(t), 170 + 100 * math.sin(t))], dark, 2)
        p.ellipse((150, 160, 170, 180), fill=a)
        return
    box = (40, 105, 280, 225) if variant == "lumbar" else (65, 65, 255, 255)
    x0, y0, x1, y1 = box
    p.rect(box, fill=c, outline=dark, radius=34, width=4)
    if variant == "stripes":
        for x in range(x0 + 30, x1 - 20, 32):
            p.rect((x, y0 + 6, x + 12, y1 - 6), fill=a)
    elif variant == "dots":
        for gx in range(x0 + 30, x1 - 15, 30):
            for gy in range(y0 + 30, y1 - 15, 30):
                p.ellipse((gx - 6, gy - 6, gx + 6, gy + 6), fill=a)
    else:
        p.rect((x0 + 20, y0 + 20, x1 - 20, y1 - 20), fill=None, outline=a, radius=20, width=3)
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):  # tassels
        p.line([(x, y), (x + (8 if x < 160 else -8), y + (12 if y > 160 else -12))], a, 4)


def _watch(p: _Pen, c: RGB, a: RGB, variant: str = "") -> None:
    strap = _shade(c, 0.8) if c != PALETTE["silver"] else (90, 70, 50)
    p.rect((130, 20, 190, 120), fill=strap, radius=10)
    p.rect((130, 200, 190, 300), fill=strap, radius=10)
    for y in (230, 250, 270):
        p.ellipse((156, y, 164, y + 8), fill=_shade(strap, 0.6))
    case = PALETTE["gold"] if c == PALETTE["gold"] else _STEEL
    if variant == "smart":
        p.rect((100, 90, 220, 230), fill=case, outline=_shade(case, 0.6), radius=30, width=4)
        p.rect((110, 100, 210, 220), fill=(20, 20, 24), radius=22)
        for r, tone in ((40, a), (28, c)):
            p.arc((160 - r, 160 - r, 160 + r, 160 + r), 270, 150, fill=tone, width=8)
        return
    p.rect((215, 150, 230, 170), fill=case, radius=3)  # crown
    p.ellipse((92, 92, 228, 228), fill=case, outline=_shade(case, 0.6), width=4)
    dial = (245, 243, 236) if sum(c) > 600 else c
    p.ellipse((104, 104, 216, 216), fill=dial)
    marks = (230, 230, 230) if sum(dial) < 400 else (40, 40, 44)
    for i in range(12):
        t = 2 * math.pi * i / 12
        p.line(
            [(160 + 44 * math.cos(t), 160 + 44 * math.sin(t)),
             (160 + 52 * math.cos(t), 160 + 52 * math.sin(t))],
            fill=marks, width=3,
        )  # fmt: skip
    p.line([(160, 160), (160, 118)], fill=marks, width=4)
    p.line([(160, 160), (192, 172)], fill=marks, width=5)
    p.line([(160, 160), (132, 190)], fill=a, width=2)


_Drawer = Callable[[_Pen, RGB, RGB, str], None]
_DRAWERS: dict[str, tuple[_Drawer, str]] = {
    "towel": (_towel, ""),
    "towel_beach": (_towel, "beach"),
    "towel_stack": (_towel_stack, ""),
    "saw_circular": (_saw_circular, ""),
    "saw_band": (_saw_band, ""),
    "saw_jig": (_saw_jig, ""),
    "saw_recip": (_saw_recip, ""),
    "mug": (_mug, ""),
    "mug_wide": (_mug, "wide"),
    "mug_small": (_mug, "small"),
    "mug_travel": (_mug_travel, ""),
    "pan": (_pan, ""),
    "pot": (_pot, ""),
    "pot_small": (_pot, "small"),
    "sneaker": (_sneaker, ""),
    "sneaker_high": (_sneaker, "high"),
    "tshirt": (_tshirt, ""),
    "tshirt_v": (_tshirt, "v"),
    "tshirt_pocket": (_tshirt, "pocket"),
    "tshirt_long": (_tshirt, "long"),
    "tshirt_stripes": (_tshirt, "stripes"),
    "backpack": (_backpack, ""),
    "backpack_roll": (_backpack, "roll"),
    "lamp": (_lamp, ""),
    "lamp_bar": (_lamp, "bar"),
    "headphones": (_headphones, ""),
    "earbuds": (_earbuds, ""),
    "yoga_mat": (_yoga_mat, ""),
    "yoga_mat_flat": (_yoga_mat, "flat"),
    "sofa": (_sofa, ""),
    "sofa_small": (_sofa, "small"),
    "sofa_sectional": (_sofa, "sectional"),
    "pillow": (_pillow, ""),
    "pillow_stripes": (_pillow, "stripes"),
    "pillow_dots": (_pillow, "dots"),
    "pillow_lumbar": (_pillow, "lumbar"),
    "pillow_round": (_pillow, "round"),
    "watch": (_watch, ""),
    "smartwatch": (_watch, "smart"),
}


def render_illustration(product: dict[str, Any]) -> bytes:
    """The PNG drawing of a demo product: its item type in its colour on a light
    background. Same product dict, same bytes."""
    spec = product["illustration"]
    drawer, variant = _DRAWERS[spec["shape"]]
    size = IMAGE_SIZE * _SUPERSAMPLE
    image = Image.new("RGB", (size, size), _BACKGROUND)
    pen = _Pen(ImageDraw.Draw(image), _SUPERSAMPLE)
    pen.ellipse((40, 272, 280, 304), fill=_SHADOW)  # floor shadow grounds every item
    drawer(pen, PALETTE[spec["color"]], PALETTE[spec["accent"]], variant)
    image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
