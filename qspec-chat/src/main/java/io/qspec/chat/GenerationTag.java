package io.qspec.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

/**
 * Hugging Face's {@code {% generation %}...{% endgeneration %}}, which marks the assistant's text for
 * training masks ({@code return_assistant_tokens_mask}): a prompt renders its body as it is, in a scope
 * of its own (Hugging Face runs it as a call block, whose {@code set}s stay inside).
 */
final class GenerationTag implements Tag {
    private static final long serialVersionUID = 1L;

    @Override
    public String getName() {
        return "generation";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        StringBuilder body = new StringBuilder();
        try (JinjavaInterpreter.InterpreterScopeClosable scope = interpreter.enterScope()) {
            for (Node child : tagNode.getChildren()) {
                body.append(child.render(interpreter));
            }
        }
        return body.toString();
    }
}
