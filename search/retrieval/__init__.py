"""Finding candidates: the keyword leg (`lexical`), the vector leg (`vector`), the shopper's
filters applied inside both (`filters`), one ranking from the two (`fusion`) and "did you
mean" (`spelling`). Each leg is one SQL statement the planner sees whole (`statement`)."""
