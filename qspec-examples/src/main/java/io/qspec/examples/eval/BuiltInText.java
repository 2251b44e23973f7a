package io.qspec.examples.eval;

/** A short story in the style the test models were trained on, for perplexity and top-1 statistics. */
final class BuiltInText {
    static final String STORY = """
            Once upon a time, there was a little girl named Mia. She lived in a small house near a big forest. \
            Every day, Mia liked to walk to the edge of the forest and look at the tall trees. One morning, she saw \
            a small rabbit sitting under a bush. The rabbit looked sad. Mia asked, "Why are you sad, little rabbit?" \
            The rabbit said, "I lost my way home. I cannot find my mom." Mia wanted to help. She said, "Do not be \
            scared. I will help you find your mom." Mia and the rabbit walked into the forest together. They saw \
            birds in the trees and a big frog by the pond. The frog said, "I saw a big rabbit near the old tree." \
            Mia and the little rabbit ran to the old tree. There was the mom rabbit! She was so happy to see her \
            baby. The little rabbit hugged his mom and said, "Thank you, Mia!" Mia smiled and walked back home. \
            She told her mom about the rabbit, and her mom gave her a big hug. From that day on, Mia and the \
            rabbit were best friends, and they played together every day.""";

    private BuiltInText() {
    }
}
