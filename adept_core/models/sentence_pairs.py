"""Thirty labelled sentence pairs, written for this project, for the MiniLM fidelity study.

``True`` marks a paraphrase (same meaning, different words); ``False`` a pair
with a different meaning. Ten of the fifteen negatives share topic words
with each other ("hard" negatives: same subject, different claim), so the
ranking cannot be won on vocabulary overlap alone. Labels are the author's
judgement; no external dataset is copied.
"""

#: (sentence a, sentence b, same meaning?)
SENTENCE_PAIRS = (
    ("A man is playing a guitar on the stage.", "Someone performs a song on guitar in front of an audience.", True),
    ("The train to Berlin was delayed by two hours.", "Our Berlin train arrived two hours late.", True),
    ("She forgot her umbrella and got soaked in the rain.", "Without her umbrella, she was drenched by the rain.", True),
    ("The recipe needs three eggs and a cup of flour.", "You will need a cup of flour and three eggs for this recipe.", True),
    ("Children are building a sandcastle on the beach.", "Kids make a castle out of sand by the sea.", True),
    ("The company reported record profits this quarter.", "This quarter the firm earned more than ever before.", True),
    ("Please turn off the lights when you leave the room.", "Switch the lights off on your way out of the room.", True),
    ("The cat is sleeping on the warm windowsill.", "A cat naps on the sunny window ledge.", True),
    ("He repaired the flat tyre of his bicycle.", "He fixed the punctured tire on his bike.", True),
    ("The museum is closed on Mondays.", "On Mondays the museum does not open.", True),
    ("Heavy snow blocked the mountain road overnight.", "During the night the mountain pass was buried under snow.", True),
    ("The doctor advised him to drink more water.", "His physician told him to increase his fluid intake.", True),
    ("Photonic chips compute with light instead of electrons.", "These processors use light, not electric current, to calculate.", True),
    ("The library lends books for three weeks.", "You may borrow a book from the library for up to three weeks.", True),
    ("Two dogs are chasing a ball across the park.", "A pair of dogs run after a ball in the park.", True),
    ("A man is playing a guitar on the stage.", "A man is cooking dinner in the kitchen.", False),
    ("The train to Berlin was delayed by two hours.", "The train to Berlin left exactly on time.", False),
    ("The cat is sleeping on the warm windowsill.", "The dog is barking at the mail carrier.", False),
    ("The company reported record profits this quarter.", "The company announced layoffs after heavy losses.", False),
    ("Children are building a sandcastle on the beach.", "The children are doing homework at the kitchen table.", False),
    ("Heavy snow blocked the mountain road overnight.", "The mountain road was reopened after repairs.", False),
    ("The doctor advised him to drink more water.", "The doctor went on holiday to Spain.", False),
    ("The museum is closed on Mondays.", "The museum bought a new painting on Monday.", False),
    ("He repaired the flat tyre of his bicycle.", "He sold his bicycle to a neighbour.", False),
    ("Photonic chips compute with light instead of electrons.", "Light from distant stars takes years to reach us.", False),
    ("The stock market fell sharply today.", "A small bird built a nest in the garden.", False),
    ("She is learning to play the violin.", "The bridge was painted bright red last summer.", False),
    ("The soup needs more salt.", "Our flight to Tokyo has been cancelled.", False),
    ("The river flooded the village after the storm.", "He wrote a long letter to his grandmother.", False),
    ("The printer on the third floor is out of paper.", "Penguins cannot fly but swim very well.", False),
)

#: Held-out sentences for ADC range calibration (never evaluated), of the same kind and lengths.
CALIBRATION_SENTENCES = (
    "The bakery on the corner sells fresh bread every morning.",
    "Our neighbours adopted a small grey kitten last week.",
    "The football match was postponed because of the storm.",
    "She painted the fence white before the guests arrived.",
    "A strong wind knocked over the old oak tree.",
    "The engineers tested the new bridge with heavy trucks.",
    "He reads the newspaper while drinking his tea.",
    "Tickets for the concert sold out in ten minutes.",
    "The hospital opened a new wing for children.",
    "Farmers expect a good harvest after the warm spring.",
    "The laptop battery lasts about eight hours.",
    "A group of tourists took photos of the cathedral.",
    "The teacher explained fractions with slices of pizza.",
    "Lasers can cut steel with remarkable precision.",
    "The swimming pool is heated during the winter months.",
    "My brother is moving to Canada next year.",
    "The orchestra rehearsed the symphony twice.",
    "Rain is expected over the weekend in the north.",
    "The startup raised money to build solar panels.",
    "An old map was found inside the library wall.",
)
