/**
 * Phrase banks of the synthetic dataset, one per language: prompts, the parts of an answer (an
 * introduction, points, a conclusion), a refusal, and weak one-liners. synthetic.ts builds answers
 * from them, in the prompt's language or in another one.
 */

export interface LanguageBank {
  /** The WSDM `language` value. */
  name: string;
  /** Relative frequency in the generated set: the language's rows in WSDM's train.parquet. */
  weight: number;
  topics: string[];
  prompts: ((topic: string) => string)[];
  /** Appended to a prompt: a word limit, so that prompts (and so rows) rarely repeat. */
  limit: (words: number) => string;
  intro: (topic: string) => string;
  points: ((topic: string) => string)[];
  conclusion: (topic: string) => string;
  /** A polite, long-winded refusal: long, and what judges like least. */
  refusal: (topic: string) => string;
  weak: string[];
}

export const LANGUAGE_BANKS: LanguageBank[] = [
  {
    name: 'English',
    limit: (w) => ` Keep it under ${w} words.`,
    weight: 25211,
    topics: ['photosynthesis', 'compound interest', 'machine learning', 'the water cycle', 'public key cryptography', 'sourdough baking', 'climate change', 'the French Revolution'],
    prompts: [
      (t) => `Explain ${t} in simple terms.`,
      (t) => `What are the main ideas behind ${t}?`,
      (t) => `How would you teach ${t} to a beginner?`,
    ],
    intro: (t) => `**${t[0]!.toUpperCase()}${t.slice(1)}** can be understood step by step.`,
    points: [
      (t) => `First, ${t} starts from a few basic definitions.`,
      (t) => `A simple everyday example makes ${t} easier to picture.`,
      (t) => `The key mechanism of ${t} is cause followed by effect.`,
      (t) => `Common mistakes about ${t} come from skipping the basics.`,
      (t) => `Good books and diagrams explain ${t} in more depth.`,
    ],
    conclusion: (t) => `In short, ${t} is easier than it looks once the parts are clear.`,
    refusal: (t) => `I'm sorry, but I can't help with questions about ${t}. This is a topic where I would rather not give an answer that might be incomplete or misleading, so please consult a qualified expert or a trusted reference instead.`,
    weak: ['I am not sure.', 'It depends.', 'You can search for it online.', 'The weather is nice today, let us talk about something else.', 'Interesting question!'],
  },
  {
    name: 'Russian',
    limit: (w) => ` Уложись в ${w} слов.`,
    weight: 6455,
    topics: ['фотосинтез', 'сложный процент', 'машинное обучение', 'круговорот воды', 'криптография с открытым ключом'],
    prompts: [(t) => `Объясни простыми словами, что такое ${t}.`, (t) => `Какие основные идеи лежат в основе темы «${t}»?`],
    intro: (t) => `**${t}** можно понять шаг за шагом.`,
    points: [
      (t) => `Во-первых, тема «${t}» начинается с нескольких базовых определений.`,
      (t) => `Простой пример из жизни помогает представить ${t}.`,
      (t) => `Главный механизм здесь: причина и следствие (${t}).`,
      (t) => `Типичные ошибки про ${t} возникают, когда пропускают основы.`,
    ],
    conclusion: (t) => `Итак, ${t} проще, чем кажется.`,
    refusal: (t) => `К сожалению, я не могу помочь с вопросами на тему «${t}». Я не хотел бы давать неполный или вводящий в заблуждение ответ, поэтому, пожалуйста, обратитесь к специалисту или к надёжному источнику.`,
    weak: ['Не знаю.', 'Зависит от ситуации.', 'Поищите в интернете.', 'Сегодня хорошая погода.'],
  },
  {
    name: 'Chinese',
    limit: (w) => `请不超过${w}个字。`,
    weight: 4310,
    topics: ['光合作用', '复利', '机器学习', '水循环', '公钥加密'],
    prompts: [(t) => `请用简单的话解释${t}。`, (t) => `${t}的主要原理是什么？`],
    intro: (t) => `**${t}**可以一步一步地理解。`,
    points: [
      (t) => `第一，${t}从几个基本定义开始。`,
      (t) => `用一个日常的例子可以更容易地想象${t}。`,
      (t) => `${t}的关键机制是因果关系。`,
      (t) => `关于${t}的常见错误来自忽略基础知识。`,
    ],
    conclusion: (t) => `总之，理解了各个部分之后，${t}并不难。`,
    refusal: (t) => `很抱歉，我无法回答关于${t}的问题。我不想给出不完整或可能误导你的答案，所以请咨询相关专家或查阅可靠的资料。`,
    weak: ['我不确定。', '这要看情况。', '你可以上网搜索。', '今天天气很好。'],
  },
  {
    name: 'Arabic',
    limit: (w) => ` في أقل من ${w} كلمة.`,
    weight: 163,
    topics: ['التمثيل الضوئي', 'الفائدة المركبة', 'تعلم الآلة', 'دورة المياه'],
    prompts: [(t) => `اشرح ${t} بكلمات بسيطة.`, (t) => `ما هي الأفكار الرئيسية في ${t}؟`],
    intro: (t) => `**${t}** يمكن فهمه خطوة بخطوة.`,
    points: [
      (t) => `أولاً، يبدأ موضوع ${t} ببعض التعريفات الأساسية.`,
      (t) => `مثال بسيط من الحياة اليومية يسهل تصور ${t}.`,
      (t) => `الآلية الأساسية في ${t} هي السبب والنتيجة.`,
      (t) => `الأخطاء الشائعة حول ${t} تأتي من تجاهل الأساسيات.`,
    ],
    conclusion: (t) => `باختصار، ${t} أسهل مما يبدو.`,
    refusal: (t) => `عذراً، لا أستطيع المساعدة في الأسئلة المتعلقة بـ ${t}. لا أريد أن أقدم إجابة ناقصة أو مضللة، لذا يرجى استشارة خبير مختص أو مرجع موثوق.`,
    weak: ['لست متأكداً.', 'هذا يعتمد.', 'يمكنك البحث على الإنترنت.', 'الطقس جميل اليوم.'],
  },
  {
    name: 'Hindi',
    limit: (w) => ` ${w} शब्दों से कम में।`,
    weight: 6,
    topics: ['प्रकाश संश्लेषण', 'चक्रवृद्धि ब्याज', 'मशीन लर्निंग', 'जल चक्र'],
    prompts: [(t) => `${t} को सरल शब्दों में समझाइए।`, (t) => `${t} के मुख्य विचार क्या हैं?`],
    intro: (t) => `**${t}** को कदम दर कदम समझा जा सकता है।`,
    points: [
      (t) => `पहला, ${t} कुछ बुनियादी परिभाषाओं से शुरू होता है।`,
      (t) => `रोज़मर्रा का एक सरल उदाहरण ${t} को समझना आसान बनाता है।`,
      (t) => `${t} का मुख्य तंत्र कारण और प्रभाव है।`,
      (t) => `${t} के बारे में आम गलतियाँ बुनियादी बातें छोड़ने से होती हैं।`,
    ],
    conclusion: (t) => `संक्षेप में, ${t} जितना दिखता है उससे आसान है।`,
    refusal: (t) => `क्षमा करें, मैं ${t} से जुड़े प्रश्नों में मदद नहीं कर सकता। मैं अधूरा या भ्रामक उत्तर नहीं देना चाहता, इसलिए कृपया किसी विशेषज्ञ या विश्वसनीय स्रोत से सलाह लें।`,
    weak: ['मुझे पक्का नहीं पता।', 'यह निर्भर करता है।', 'आप इंटरनेट पर खोज सकते हैं।', 'आज मौसम अच्छा है।'],
  },
  {
    name: 'Japanese',
    limit: (w) => `${w}語以内でお願いします。`,
    weight: 1159,
    topics: ['光合成', '複利', '機械学習', '水の循環'],
    prompts: [(t) => `${t}を簡単に説明してください。`, (t) => `${t}の主な考え方は何ですか？`],
    intro: (t) => `**${t}**は一歩ずつ理解できます。`,
    points: [
      (t) => `まず、${t}はいくつかの基本的な定義から始まります。`,
      (t) => `身近な例を使うと${t}をイメージしやすくなります。`,
      (t) => `${t}の重要な仕組みは原因と結果です。`,
    ],
    conclusion: (t) => `つまり、${t}は見た目ほど難しくありません。`,
    refusal: (t) => `申し訳ありませんが、${t}に関するご質問にはお答えできません。不完全な、または誤解を招く回答をしたくないので、専門家や信頼できる資料にご相談ください。`,
    weak: ['よくわかりません。', '場合によります。', 'ネットで調べてください。'],
  },
  {
    name: 'Spanish',
    limit: (w) => ` Máximo ${w} palabras.`,
    weight: 790,
    topics: ['la fotosíntesis', 'el interés compuesto', 'el aprendizaje automático', 'el ciclo del agua'],
    prompts: [(t) => `Explica ${t} con palabras sencillas.`, (t) => `¿Cuáles son las ideas principales de ${t}? 🤔`],
    intro: (t) => `**${t}** se puede entender paso a paso. 🙂`,
    points: [
      (t) => `Primero, ${t} parte de unas definiciones básicas.`,
      (t) => `Un ejemplo cotidiano ayuda a imaginar ${t}.`,
      (t) => `El mecanismo clave de ${t} es causa y efecto.`,
    ],
    conclusion: (t) => `En resumen, ${t} es más fácil de lo que parece.`,
    refusal: (t) => `Lo siento, pero no puedo ayudar con preguntas sobre ${t}. Prefiero no dar una respuesta incompleta o engañosa, así que te recomiendo consultar a un experto o una fuente fiable.`,
    weak: ['No estoy seguro.', 'Depende.', 'Búscalo en internet.', 'Hoy hace buen tiempo. 😎'],
  },
  {
    name: 'Vietnamese',
    limit: (w) => ` Không quá ${w} từ.`,
    weight: 3103,
    topics: ['quang hợp', 'lãi kép', 'học máy', 'vòng tuần hoàn của nước'],
    prompts: [(t) => `Hãy giải thích ${t} bằng lời đơn giản.`, (t) => `Những ý chính của ${t} là gì?`],
    intro: (t) => `**${t}** có thể được hiểu từng bước một.`,
    points: [
      (t) => `Trước hết, ${t} bắt đầu từ một vài định nghĩa cơ bản.`,
      (t) => `Một ví dụ đời thường giúp hình dung ${t} dễ hơn.`,
      (t) => `Cơ chế chính của ${t} là nguyên nhân và kết quả.`,
      (t) => `Những sai lầm thường gặp về ${t} đến từ việc bỏ qua kiến thức nền tảng.`,
    ],
    conclusion: (t) => `Tóm lại, ${t} dễ hơn bạn nghĩ khi đã hiểu rõ từng phần.`,
    refusal: (t) => `Xin lỗi, tôi không thể giúp với các câu hỏi về ${t}. Tôi không muốn đưa ra câu trả lời thiếu sót hoặc gây hiểu lầm, vì vậy bạn nên hỏi ý kiến chuyên gia hoặc một nguồn đáng tin cậy.`,
    weak: ['Tôi không chắc.', 'Còn tùy.', 'Bạn có thể tìm trên mạng.', 'Hôm nay trời đẹp quá.'],
  },
  {
    name: 'German',
    limit: (w) => ` Höchstens ${w} Wörter.`,
    weight: 1402,
    topics: ['die Photosynthese', 'der Zinseszins', 'das maschinelle Lernen', 'der Wasserkreislauf'],
    prompts: [(t) => `Erkläre ${t} in einfachen Worten.`, (t) => `Was sind die wichtigsten Ideen hinter dem Thema ${t}?`],
    intro: (t) => `**${t}** lässt sich Schritt für Schritt verstehen.`,
    points: [
      (t) => `Zuerst beginnt ${t} mit ein paar grundlegenden Begriffen.`,
      (t) => `Ein Beispiel aus dem Alltag macht ${t} anschaulicher.`,
      (t) => `Der wichtigste Mechanismus bei ${t} ist Ursache und Wirkung.`,
      (t) => `Typische Fehler zu ${t} entstehen, wenn man die Grundlagen überspringt.`,
    ],
    conclusion: (t) => `Kurz gesagt: ${t} ist einfacher, als es aussieht.`,
    refusal: (t) => `Es tut mir leid, aber bei Fragen zu ${t} kann ich nicht helfen. Ich möchte keine unvollständige oder irreführende Antwort geben, deshalb wende dich bitte an eine Fachperson oder eine verlässliche Quelle.`,
    weak: ['Ich bin mir nicht sicher.', 'Das kommt darauf an.', 'Such es im Internet.', 'Heute ist schönes Wetter.'],
  },
  {
    name: 'Korean',
    limit: (w) => ` ${w}단어 이내로 답해 주세요.`,
    weight: 1041,
    topics: ['광합성', '복리', '머신러닝', '물의 순환'],
    prompts: [(t) => `${t}에 대해 쉽게 설명해 주세요.`, (t) => `${t}의 핵심 개념은 무엇인가요?`],
    intro: (t) => `**${t}**은 단계별로 이해할 수 있습니다.`,
    points: [
      (t) => `먼저, ${t}은 몇 가지 기본 정의에서 시작합니다.`,
      (t) => `일상적인 예를 들면 ${t}을 더 쉽게 떠올릴 수 있습니다.`,
      (t) => `${t}의 핵심 원리는 원인과 결과입니다.`,
    ],
    conclusion: (t) => `요약하면, ${t}은 생각보다 어렵지 않습니다.`,
    refusal: (t) => `죄송하지만 ${t}에 관한 질문에는 도움을 드릴 수 없습니다. 불완전하거나 오해를 부를 수 있는 답변을 드리고 싶지 않으니 전문가나 믿을 만한 자료를 참고해 주세요.`,
    weak: ['잘 모르겠습니다.', '경우에 따라 다릅니다.', '인터넷에서 찾아보세요.', '오늘 날씨가 좋네요.'],
  },
  {
    name: 'French',
    limit: (w) => ` En moins de ${w} mots.`,
    weight: 640,
    topics: ['la photosynthèse', "les intérêts composés", "l'apprentissage automatique", "le cycle de l'eau"],
    prompts: [(t) => `Explique ${t} avec des mots simples.`, (t) => `Quelles sont les idées principales derrière ${t} ?`],
    intro: (t) => `**${t}** se comprend étape par étape.`,
    points: [
      (t) => `D'abord, ${t} repose sur quelques définitions de base.`,
      (t) => `Un exemple de la vie quotidienne aide à se représenter ${t}.`,
      (t) => `Le mécanisme clé de ${t} est la cause et l'effet.`,
    ],
    conclusion: (t) => `En résumé, ${t} est plus simple qu'il n'y paraît.`,
    refusal: (t) => `Je suis désolé, mais je ne peux pas répondre aux questions sur ${t}. Je préfère ne pas donner une réponse incomplète ou trompeuse ; consultez plutôt un spécialiste ou une source fiable.`,
    weak: ['Je ne suis pas sûr.', 'Ça dépend.', 'Cherche sur internet.', 'Il fait beau aujourd’hui.'],
  },
  {
    name: 'Portuguese',
    limit: (w) => ` No máximo ${w} palavras.`,
    weight: 558,
    topics: ['a fotossíntese', 'os juros compostos', 'o aprendizado de máquina', 'o ciclo da água'],
    prompts: [(t) => `Explique ${t} com palavras simples.`, (t) => `Quais são as ideias principais sobre ${t}?`],
    intro: (t) => `**${t}** pode ser entendido passo a passo.`,
    points: [
      (t) => `Primeiro, ${t} começa com algumas definições básicas.`,
      (t) => `Um exemplo do dia a dia ajuda a imaginar ${t}.`,
      (t) => `O mecanismo principal de ${t} é causa e efeito.`,
    ],
    conclusion: (t) => `Em resumo, ${t} é mais fácil do que parece.`,
    refusal: (t) => `Desculpe, mas não posso ajudar com perguntas sobre ${t}. Prefiro não dar uma resposta incompleta ou enganosa, então consulte um especialista ou uma fonte confiável.`,
    weak: ['Não tenho certeza.', 'Depende.', 'Pesquise na internet.', 'Hoje está um dia bonito.'],
  },
  {
    name: 'Persian',
    limit: (w) => ` در کمتر از ${w} کلمه.`,
    weight: 366,
    topics: ['فتوسنتز', 'بهره مرکب', 'یادگیری ماشین', 'چرخه آب'],
    prompts: [(t) => `لطفاً ${t} را به زبان ساده توضیح بده.`, (t) => `ایده‌های اصلی ${t} چیست؟`],
    intro: (t) => `**${t}** را می‌توان قدم به قدم فهمید.`,
    points: [
      (t) => `اول، ${t} با چند تعریف پایه شروع می‌شود.`,
      (t) => `یک مثال روزمره تصور ${t} را آسان‌تر می‌کند.`,
      (t) => `سازوکار اصلی ${t} علت و معلول است.`,
    ],
    conclusion: (t) => `به طور خلاصه، ${t} ساده‌تر از آن است که به نظر می‌رسد.`,
    refusal: (t) => `متأسفم، اما نمی‌توانم در مورد ${t} کمک کنم. نمی‌خواهم پاسخی ناقص یا گمراه‌کننده بدهم، پس لطفاً با یک متخصص یا منبع معتبر مشورت کنید.`,
    weak: ['مطمئن نیستم.', 'بستگی دارد.', 'در اینترنت جستجو کنید.', 'امروز هوا خوب است.'],
  },
];

export const MODEL_NAMES = ['gpt-4o', 'claude-3-5-sonnet', 'gemini-1.5-pro', 'llama-3.1-70b', 'qwen2.5-72b', 'mistral-large', 'gemma-2-27b'];
