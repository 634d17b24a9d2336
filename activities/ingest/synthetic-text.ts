/**
 * Phrase banks of the synthetic dataset, one per language. A good answer names the topic and is
 * structured (numbered points, a conclusion); a weak one is short, generic or off-topic.
 */

export interface LanguageBank {
  /** The WSDM `language` value. */
  name: string;
  /** Relative frequency in the generated set. */
  weight: number;
  topics: string[];
  prompts: ((topic: string) => string)[];
  /** Appended to a prompt: a word limit, so that prompts (and so rows) rarely repeat. */
  limit: (words: number) => string;
  intro: (topic: string) => string;
  points: ((topic: string) => string)[];
  conclusion: (topic: string) => string;
  weak: string[];
}

export const LANGUAGE_BANKS: LanguageBank[] = [
  {
    name: 'English',
    limit: (w) => ` Keep it under ${w} words.`,
    weight: 4,
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
    weak: ['I am not sure.', 'It depends.', 'You can search for it online.', 'The weather is nice today, let us talk about something else.', 'Interesting question!'],
  },
  {
    name: 'Russian',
    limit: (w) => ` Уложись в ${w} слов.`,
    weight: 2,
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
    weak: ['Не знаю.', 'Зависит от ситуации.', 'Поищите в интернете.', 'Сегодня хорошая погода.'],
  },
  {
    name: 'Chinese',
    limit: (w) => `请不超过${w}个字。`,
    weight: 2,
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
    weak: ['我不确定。', '这要看情况。', '你可以上网搜索。', '今天天气很好。'],
  },
  {
    name: 'Arabic',
    limit: (w) => ` في أقل من ${w} كلمة.`,
    weight: 1,
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
    weak: ['لست متأكداً.', 'هذا يعتمد.', 'يمكنك البحث على الإنترنت.', 'الطقس جميل اليوم.'],
  },
  {
    name: 'Hindi',
    limit: (w) => ` ${w} शब्दों से कम में।`,
    weight: 1,
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
    weak: ['मुझे पक्का नहीं पता।', 'यह निर्भर करता है।', 'आप इंटरनेट पर खोज सकते हैं।', 'आज मौसम अच्छा है।'],
  },
  {
    name: 'Japanese',
    limit: (w) => `${w}語以内でお願いします。`,
    weight: 1,
    topics: ['光合成', '複利', '機械学習', '水の循環'],
    prompts: [(t) => `${t}を簡単に説明してください。`, (t) => `${t}の主な考え方は何ですか？`],
    intro: (t) => `**${t}**は一歩ずつ理解できます。`,
    points: [
      (t) => `まず、${t}はいくつかの基本的な定義から始まります。`,
      (t) => `身近な例を使うと${t}をイメージしやすくなります。`,
      (t) => `${t}の重要な仕組みは原因と結果です。`,
    ],
    conclusion: (t) => `つまり、${t}は見た目ほど難しくありません。`,
    weak: ['よくわかりません。', '場合によります。', 'ネットで調べてください。'],
  },
  {
    name: 'Spanish',
    limit: (w) => ` Máximo ${w} palabras.`,
    weight: 1,
    topics: ['la fotosíntesis', 'el interés compuesto', 'el aprendizaje automático', 'el ciclo del agua'],
    prompts: [(t) => `Explica ${t} con palabras sencillas.`, (t) => `¿Cuáles son las ideas principales de ${t}? 🤔`],
    intro: (t) => `**${t}** se puede entender paso a paso. 🙂`,
    points: [
      (t) => `Primero, ${t} parte de unas definiciones básicas.`,
      (t) => `Un ejemplo cotidiano ayuda a imaginar ${t}.`,
      (t) => `El mecanismo clave de ${t} es causa y efecto.`,
    ],
    conclusion: (t) => `En resumen, ${t} es más fácil de lo que parece.`,
    weak: ['No estoy seguro.', 'Depende.', 'Búscalo en internet.', 'Hoy hace buen tiempo. 😎'],
  },
];

export const MODEL_NAMES = ['gpt-4o', 'claude-3-5-sonnet', 'gemini-1.5-pro', 'llama-3.1-70b', 'qwen2.5-72b', 'mistral-large', 'gemma-2-27b'];
